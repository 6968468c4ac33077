// Live progress of an aggregation run; without JavaScript the page offers a refresh link instead.
(function () {
  "use strict";
  // Translated through the JavaScript catalogue (/jsi18n/), Chinese when it is not loaded.
  var gettext = window.gettext || function (text) { return text; };
  var box = document.getElementById("run");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") { return; }
  var url = box.getAttribute("data-run-url");
  var labels = { queued: gettext("排队中"), running: gettext("运行中"), succeeded: gettext("已完成"), failed: gettext("失败") };
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        document.getElementById("run-percent").textContent = run.progress;
        document.getElementById("run-bar").style.width = run.progress + "%";
        document.getElementById("run-status").textContent = labels[run.status] || run.status;
        if (run.status === "succeeded" || run.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
