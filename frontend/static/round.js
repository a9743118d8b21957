/* The round review: the bar counts the ticked proposals ("已选 23 项") and names them on its
   buttons. Without script the form still posts whatever is ticked. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("proposals-form");
    if (!form) { return; }
    var said = form.querySelector("[data-ticked-label]");
    if (!said) { return; }
    function count() {
      var n = form.querySelectorAll("input[name=proposal_id]:checked").length;
      said.textContent = said.getAttribute("data-ticked-label").replace("%(n)s", String(n));
    }
    form.addEventListener("change", count);
    // app.js ticks every box for "select all" without a change event on each: count after it
    form.querySelectorAll("[data-select-all]").forEach(function (all) {
      all.addEventListener("change", function () { window.setTimeout(count, 0); });
    });
  });
})();
