/* Chart.js charts from data-chart (JSON {type, labels, datasets, stacked}), axis titles from
   data-y-title / data-x-title; the table beside stays. Counts are whole: no 0.5 on an axis.
   No red beside green: the palette holds one of them only. */
(function () {
  "use strict";
  var PALETTE = ["#0b4fa8", "#a34a00", "#6a1b9a", "#37474f", "#ad1457", "#6b4e00", "#a4221b"];

  function axisTitle(text) {
    return text ? {display: true, text: text, color: "#4d5560", font: {size: 13}} : {display: false};
  }

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
                scales: {x: {stacked: !!spec.stacked, title: axisTitle(box.getAttribute("data-x-title"))},
                         y: {stacked: !!spec.stacked, beginAtZero: true, ticks: {precision: 0},
                             title: axisTitle(box.getAttribute("data-y-title"))}}}
    });
    box.setAttribute("data-ready", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
