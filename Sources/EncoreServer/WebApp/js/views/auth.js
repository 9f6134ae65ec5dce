// #/login and #/signup: one form, two modes.
import { api } from "../api.js";
import { h, setTitle } from "../dom.js";
import { setSession } from "../session.js";
import { navigate } from "../router.js";

export async function render(ctx) {
  const signup = ctx.name === "signup";
  setTitle(signup ? "Create an account" : "Sign in");
  const error = h("p.form-error", { id: "auth-error", role: "alert" });
  const field = (id, label, input, hint) => h("div.field", {}, h("label", { for: id }, label), input, hint ? h("p.hint", { id: `${id}-hint` }, hint) : null);
  const email = h("input", { id: "auth-email", type: "email", name: "email", autocomplete: "email", required: true, maxlength: "254" });
  const password = h("input", { id: "auth-password", type: "password", name: "password", required: true, minlength: signup ? "8" : undefined, maxlength: "72",
    autocomplete: signup ? "new-password" : "current-password", aria: { describedby: signup ? "auth-password-hint" : undefined } });
  const displayName = signup ? h("input", { id: "auth-display-name", type: "text", name: "displayName", autocomplete: "nickname", required: true, maxlength: "100" }) : null;
  const role = signup ? h("select", { id: "auth-role", name: "role" },
    h("option", { value: "listener" }, "Listener: I want to listen"),
    h("option", { value: "artist" }, "Artist: I want to publish music")) : null;
  const submit = h("button.button.primary.wide", { id: "auth-submit", type: "submit" }, signup ? "Create account" : "Sign in");

  const form = h("form.auth-form", { novalidate: true },
    field("auth-email", "Email", email),
    signup ? field("auth-display-name", "Display name", displayName) : null,
    field("auth-password", "Password", password, signup ? "At least 8 characters." : null),
    signup ? field("auth-role", "Account type", role) : null,
    error, submit);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const problem = validate();
    if (problem) { error.textContent = problem.message; problem.input.focus(); return; }
    submit.disabled = true;
    submit.textContent = signup ? "Creating account…" : "Signing in…";
    try {
      const session = signup
        ? await api.register({ email: email.value.trim(), password: password.value, displayName: displayName.value.trim(), role: role.value })
        : await api.login({ email: email.value.trim(), password: password.value });
      setSession(session);
      navigate("#/");
    } catch (err) {
      error.textContent = err.message;
      submit.disabled = false;
      submit.textContent = signup ? "Create account" : "Sign in";
      (err.code?.includes("email") ? email : password).focus();
    }
  });

  // Catch the obvious mistakes before a round trip; the server's message covers the rest.
  function validate() {
    if (!email.value.trim()) return { input: email, message: "Enter your email address." };
    if (signup && !displayName.value.trim()) return { input: displayName, message: "Enter a display name." };
    if (!password.value) return { input: password, message: "Enter your password." };
    if (signup && password.value.length < 8) return { input: password, message: "The password needs at least 8 characters." };
    return null;
  }

  ctx.root.append(h("section.auth-page", { id: "auth-view" },
    h("div.auth-card", {},
      h("div.auth-brand", { aria: { hidden: "true" } }, "Encore"),
      h("h1", {}, signup ? "Create your account" : "Sign in to Encore"),
      h("p.lede", {}, signup ? "Listen to everything, or publish your own music as an artist." : "Welcome back. Your music is waiting."),
      form,
      h("p.auth-switch", {}, signup ? "Already have an account? " : "New to Encore? ",
        h("a", { id: "auth-switch", href: signup ? "#/login" : "#/signup" }, signup ? "Sign in" : "Create an account")))));
  email.focus();
}
