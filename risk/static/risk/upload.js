"use strict";
// 风险预警 upload page: a preview of a CSV's first lines and a progress bar while the file is sent.
(function () {
  var form = document.getElementById("risk-upload");
  var input = form.querySelector("input[type=file]");
  var preview = document.getElementById("risk-preview");
  var bar = document.getElementById("risk-progress");
  input.addEventListener("change", function () {
    preview.textContent = "";
    var file = input.files[0];
    if (!file) return;
    if (!/\.csv$/i.test(file.name)) { preview.textContent = file.name + "（" + Math.round(file.size / 1024) + " KB）"; return; }
    file.slice(0, 4096).text().then(function (text) {
      var lines = text.split(/\r?\n/).slice(0, 6).filter(function (l) { return l; });
      var table = document.createElement("table");
      table.className = "responsive";
      lines.forEach(function (line, i) {
        var tr = document.createElement("tr");
        line.split(",").forEach(function (cell) {
          var td = document.createElement(i ? "td" : "th"); td.textContent = cell; tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      preview.textContent = "预览（前 5 行）：";
      preview.appendChild(table);
    });
  });
  form.addEventListener("submit", function (event) {
    if (!window.XMLHttpRequest || !input.files[0]) return;
    event.preventDefault();
    var xhr = new XMLHttpRequest();
    bar.hidden = false;
    xhr.upload.addEventListener("progress", function (e) { if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total); });
    xhr.addEventListener("load", function () { document.open(); document.write(xhr.responseText); document.close(); });
    xhr.open("POST", form.action || window.location.href);
    xhr.send(new FormData(form));
  });
})();
