// The page shell: marks that JavaScript runs (controls that need it show only then, see portal.css).
document.documentElement.classList.add("js");
document.addEventListener("click", function (event) {
  var back = event.target.closest && event.target.closest("[data-back]");
  if (back) { event.preventDefault(); history.back(); }
});
