// The header search field: debounced navigation to #/search?q=… and listbox keyboard control
// (the results stay in #search-results; focus stays in the input, aria-activedescendant moves).
import { parseHash, navigate } from "./router.js";

const DEBOUNCE_MS = 250;

function options() { return [...document.querySelectorAll("#search-results [role=option]")]; }

export function setActiveOption(input, option) {
  for (const o of options()) o.setAttribute("aria-selected", String(o === option));
  if (option) {
    input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

export function bindSearchBox(input) {
  let timer = null;

  const go = () => {
    clearTimeout(timer);
    timer = null;
    const q = input.value.trim();
    const hash = q ? `#/search?q=${encodeURIComponent(q)}` : "#/search";
    if (parseHash().name === "search") { if (location.hash !== hash) navigate(hash, { replace: true }); }
    else if (q) navigate(hash);
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(go, DEBOUNCE_MS);
  });

  input.addEventListener("keydown", (event) => {
    const list = options();
    const active = document.getElementById(input.getAttribute("aria-activedescendant") ?? "");
    const index = active ? list.indexOf(active) : -1;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!list.length) return;
      event.preventDefault();
      const next = event.key === "ArrowDown" ? Math.min(list.length - 1, index + 1) : Math.max(0, index - 1);
      setActiveOption(input, list[next]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active && list.includes(active)) active.click();
      else if (timer) go();
    } else if (event.key === "Escape") {
      if (active) setActiveOption(input, null);
      else if (input.value) { input.value = ""; go(); }
    }
  });
}
