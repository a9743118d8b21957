/* Printing slips in batches: "select all on this page", and the button counts the ticked rows
   ("打印 48 张签收单"). Without script the form still posts whatever is ticked. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("batch");
    if (!form) { return; }
    var button = form.querySelector("[data-count-label]");
    var boxes = function () { return form.querySelectorAll("input[name=visit_id]"); };
    function count() {
      var n = Array.prototype.filter.call(boxes(), function (b) { return b.checked; }).length;
      button.textContent = button.getAttribute("data-count-label").replace("%(n)s", String(n));
      button.disabled = n === 0;
    }
    form.querySelectorAll("[data-select-all]").forEach(function (all) {
      all.addEventListener("change", function () {
        boxes().forEach(function (b) { b.checked = all.checked; });
        count();
      });
    });
    form.addEventListener("change", count);
    count();
  });
})();
