// Progressive enhancement for the receipt page: a "copy" button. The page works without it.
(function () {
  "use strict";
  // Translated through the JavaScript catalogue (/jsi18n/), Chinese when it is not loaded.
  var gettext = window.gettext || function (text) { return text; };
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.value).then(function () {
        button.textContent = gettext("已复制");
      }, function () {
        source.select();
      });
    });
  });
})();
