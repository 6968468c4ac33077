// Live progress of an annual report; without JavaScript the page offers a refresh link instead.
(function () {
  "use strict";
  // Translated through the JavaScript catalogue (/jsi18n/), Chinese when it is not loaded.
  var gettext = window.gettext || function (text) { return text; };
  var box = document.getElementById("report");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var labels = { queued: gettext("排队中"), running: gettext("生成中"), succeeded: gettext("已完成"), failed: gettext("失败") };
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (report) {
        document.getElementById("report-percent").textContent = report.progress;
        document.getElementById("report-bar").style.width = report.progress + "%";
        document.getElementById("report-status").textContent = labels[report.status] || report.status;
        document.getElementById("report-step").textContent = report.step || "";
        if (report.status === "succeeded" || report.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
