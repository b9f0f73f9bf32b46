/* Plan list: reload every data-refresh-seconds so statuses stay current, unless the operator is selecting jobs. */
(function () {
  "use strict";
  var stamp = document.getElementById("tws-plan-updated");
  if (!stamp) return;
  var seconds = parseInt(stamp.dataset.refreshSeconds, 10) || 30;
  function busy() {
    return !!document.querySelector("#result_list input.action-select:checked, #action-toggle:checked") ||
      document.activeElement && ["INPUT", "SELECT", "TEXTAREA"].indexOf(document.activeElement.tagName) >= 0;
  }
  window.setInterval(function () {
    if (document.hidden) return;
    if (busy()) { stamp.textContent = stamp.dataset.labelPaused; return; }
    window.location.reload();
  }, seconds * 1000);
})();
