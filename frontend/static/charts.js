/* Chart.js charts from data-chart (JSON {type, labels, datasets, stacked}); the table beside stays. */
(function () {
  "use strict";
  var PALETTE = ["#a4221b", "#0b4fa8", "#1d6b38", "#6b4e00", "#6a1b9a", "#00695c", "#ad1457", "#37474f"];

  function draw(box) {
    var spec = JSON.parse(box.getAttribute("data-chart"));
    if (!window.Chart) {
      box.classList.add("missing");
      var note = document.createElement("p");
      note.className = "muted";
      note.textContent = box.getAttribute("data-missing");
      box.appendChild(note);
      return;
    }
    var canvas = box.querySelector("canvas");
    spec.datasets.forEach(function (set, i) {
      set.backgroundColor = PALETTE[i % PALETTE.length];
      set.borderColor = PALETTE[i % PALETTE.length];
    });
    new window.Chart(canvas, {
      type: spec.type || "bar",
      data: {labels: spec.labels, datasets: spec.datasets},
      options: {responsive: true, maintainAspectRatio: false, animation: false,
                scales: {x: {stacked: !!spec.stacked}, y: {stacked: !!spec.stacked, beginAtZero: true}}}
    });
    box.setAttribute("data-ready", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
