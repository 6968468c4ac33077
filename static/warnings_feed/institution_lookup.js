// Suggestions for the institution code box of the publish form: as one types a code or a name, the
// first 20 matching institutions the user may see (GET /api/v1/institutions/?search=) fill the box's
// <datalist>. Without scripts the box still takes a typed code.
(function () {
  "use strict";
  function attach(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var url = input.getAttribute("data-lookup");
    if (!list || !url) { return; }
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      var term = input.value.trim();
      if (term === last || term.length < 1) { return; }
      last = term;
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch(url + "?page_size=20&search=" + encodeURIComponent(term), {
          credentials: "same-origin", headers: { "Accept": "application/json" }
        }).then(function (response) {
          return response.ok ? response.json() : { results: [] };
        }).then(function (data) {
          if (term !== last) { return; }
          list.textContent = "";
          (data.results || []).forEach(function (item) {
            var option = document.createElement("option");
            option.value = item.code;
            option.label = item.name;
            option.textContent = item.name;
            list.appendChild(option);
          });
        }).catch(function () { /* suggestions only: typing the code still works */ });
      }, 200);
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-lookup][list]").forEach(attach);
  });
})();
