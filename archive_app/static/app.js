// Sends the CSRF token with every htmx request and closes the quick-find list on Escape.
document.addEventListener("htmx:configRequest", (event) => {
  const token = document.querySelector('meta[name="csrf-token"]');
  if (token) event.detail.headers["X-CSRFToken"] = token.content;
});
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    const results = document.getElementById("quick-find-results");
    if (results) results.innerHTML = "";
  }
});
