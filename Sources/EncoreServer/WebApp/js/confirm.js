// Asks in the page's <dialog id="confirm-dialog">; resolves true only for the explicit "yes".
export function confirmAction({ title = "Are you sure?", message = "", yes = "Delete" } = {}) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-message").textContent = message;
  document.getElementById("confirm-yes").textContent = yes;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "yes");
      if (opener && opener.isConnected) opener.focus();
    }, { once: true });
    dialog.showModal();
    document.getElementById("confirm-no").focus();
  });
}
