/* Leaflet maps from data-points (JSON). Without a tile server the markers show on a plain background. */
(function () {
  "use strict";
  var COLOURS = {household: "#a4221b", unmet: "#a4221b", warehouse: "#0b4fa8", offer: "#0b4fa8",
                 proposal: "#1d6b38", delivery: "#6b4e00"};

  function draw(node) {
    var points = JSON.parse(node.getAttribute("data-points") || "[]");
    if (!window.L) {
      node.classList.add("missing");
      node.textContent = node.getAttribute("data-missing");
      return;
    }
    var map = window.L.map(node, {scrollWheelZoom: false});
    var tiles = node.getAttribute("data-tiles");
    if (tiles) {
      window.L.tileLayer(tiles, {maxZoom: 18, attribution: "&copy; map tiles"}).addTo(map);
    }
    var bounds = [];
    points.forEach(function (p) {
      var colour = COLOURS[p.kind] || "#333";
      var size = p.size ? Math.max(5, Math.min(25, 4 + Math.sqrt(p.size) * 3)) : 7;
      var marker = window.L.circleMarker([p.lat, p.lon], {radius: size, color: colour, weight: 2,
                                                         fillColor: colour, fillOpacity: 0.5});
      marker.bindTooltip(String(p.label || ""));
      marker.addTo(map);
      bounds.push([p.lat, p.lon]);
      if (p.radius_km) {
        window.L.circle([p.lat, p.lon], {radius: p.radius_km * 1000, color: colour, weight: 1,
                                         fill: false, dashArray: "4 4"}).addTo(map);
      }
      if (p.to_lat !== undefined && p.to_lat !== null) {
        window.L.polyline([[p.lat, p.lon], [p.to_lat, p.to_lon]], {color: "#1d6b38", weight: 1}).addTo(map);
        bounds.push([p.to_lat, p.to_lon]);
      }
    });
    if (bounds.length === 1) { map.setView(bounds[0], 11); }
    else if (bounds.length) {
      map.fitBounds(bounds, {padding: [20, 20]});
      // the area the points span: a boundary to read the markers against on a plain background
      window.L.rectangle(window.L.latLngBounds(bounds).pad(0.05), {color: "#777", weight: 1, fill: false}).addTo(map);
    } else { map.setView([39.9, 116.4], 4); }
    node.setAttribute("data-ready", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".map[data-points]").forEach(draw);
  });
})();
