/* Printing slips in batches: "select all on this page" or one township's, and the button counts the ticked rows
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
    // "select this township's visits": the boxes of one township's table
    form.querySelectorAll("[data-select-group]").forEach(function (one) {
      one.addEventListener("change", function () {
        var table = form.querySelector("[data-group='" + one.getAttribute("data-select-group") + "']");
        if (!table) { return; }
        table.querySelectorAll("input[name=visit_id]").forEach(function (b) { b.checked = one.checked; });
        count();
      });
    });
    form.addEventListener("change", count);
    count();
  });
})();
