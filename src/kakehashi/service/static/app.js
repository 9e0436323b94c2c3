// Live updates without a framework: every element with data-refresh="URL" re-fetches that
// fragment every data-every milliseconds and replaces its content, until the fragment
// carries data-final (the job has ended).
"use strict";
function refresh(el) {
  const every = parseInt(el.dataset.every || "1000", 10);
  const tick = async () => {
    try {
      const r = await fetch(el.dataset.refresh, { credentials: "same-origin" });
      if (r.redirected || !r.ok) return;
      el.innerHTML = await r.text();
      if (el.querySelector("[data-final]")) {
        const cancel = document.getElementById("cancel");
        if (cancel) cancel.remove();
        return;
      }
    } catch (e) { /* the server may be restarting: try again */ }
    setTimeout(tick, every);
  };
  setTimeout(tick, every);
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-refresh]").forEach(refresh);
});
