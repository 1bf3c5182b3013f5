// Smart-link pages: the release moment in the visitor's own time zone, and a countdown that ticks. The page is
// complete without this file (the server renders both in the link's time zone); it only improves them.
(function () {
  "use strict";
  var time = document.querySelector("time[data-release]");
  var left = document.querySelector("[data-countdown]");
  if (!time) return;
  var release = new Date(time.getAttribute("datetime"));
  if (isNaN(release.getTime())) return;
  try {
    time.textContent = new Intl.DateTimeFormat(undefined, {
      weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit",
      timeZoneName: "short"
    }).format(release);
  } catch (e) { /* an old browser keeps the server's text */ }
  if (!left) return;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var seconds = Math.floor((release.getTime() - Date.now()) / 1000);
    if (seconds <= 0) {
      window.location.reload(); // release day: the page now offers the streaming buttons
      return;
    }
    var days = Math.floor(seconds / 86400);
    var rest = seconds % 86400;
    left.textContent = "in " + (days ? days + (days === 1 ? " day " : " days ") : "") +
      pad(Math.floor(rest / 3600)) + ":" + pad(Math.floor(rest % 3600 / 60)) + ":" + pad(rest % 60);
    window.setTimeout(tick, 1000 - Date.now() % 1000);
  }
  left.setAttribute("role", "timer");
  left.setAttribute("aria-live", "off");
  tick();
})();
