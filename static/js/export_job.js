// Live progress of a background export; without JavaScript the page offers a refresh link instead.
(function () {
  "use strict";
  // Translated through the JavaScript catalogue (/jsi18n/), Chinese when it is not loaded.
  var gettext = window.gettext || function (text) { return text; };
  var box = document.getElementById("export-job");
  if (!box) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "queued" && status !== "running") { return; }
  var url = box.getAttribute("data-status-url");
  var labels = { queued: gettext("排队中"), running: gettext("生成中"), succeeded: gettext("已完成"), failed: gettext("失败") };
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        document.getElementById("export-percent").textContent = job.progress;
        document.getElementById("export-bar").value = job.progress;
        document.getElementById("export-status").textContent = labels[job.status] || job.status;
        if (job.status === "succeeded" || job.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
