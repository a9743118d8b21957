/* Leaflet maps from data-points (JSON) over an offline base: the approximate county areas from
   data-outlines (GeoJSON, names as labels). Tiles (data-tiles, MAP_TILE_URL) go under the areas
   only when configured; the areas are then drawn as lines alone. Never a grey box. */
(function () {
  "use strict";
  var COLOURS = {household: "#a4221b", unmet: "#a4221b", warehouse: "#0b4fa8", offer: "#0b4fa8",
                 proposal: "#1d6b38", delivery: "#6b4e00"};
  var CHINA = [[18, 73], [53.5, 135]];

  function pointsLayer(map, points) {
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
    return bounds;
  }

  function fetchAreas(url) {
    return fetch(url, {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) { return data && data.features ? data.features : []; })
      .catch(function () { return []; });
  }

  function outlinesLayer(map, node, tiles, features) {
    map.createPane("outlines");
    map.getPane("outlines").style.zIndex = 350;  // above tiles (200), under markers (400+)
    map.createPane("outline-labels");  // its own pane: Leaflet lifts a pane's SVG above the rest
    map.getPane("outline-labels").style.zIndex = 390;
    var layer = window.L.geoJSON({type: "FeatureCollection", features: features}, {
      pane: "outlines",
      interactive: false,
      style: function (feature) {
        var mine = feature.properties.in_region;
        return {color: mine ? "#7a5c3e" : "#a8957f", weight: mine ? 1.5 : 1, dashArray: "5 3",
                fill: !tiles, fillColor: mine ? "#fffaf2" : "#f1ebe3", fillOpacity: 1};
      }
    }).addTo(map);
    // Names at the middle of each area, only where the area is wide enough to hold them.
    var labels = [];
    layer.eachLayer(function (area) {
      var name = area.feature.properties.name;
      var label = window.L.tooltip({permanent: true, direction: "center", className: "outline-label",
                                    interactive: false, pane: "outline-labels"})
        .setLatLng(area.getCenter()).setContent(name);
      labels.push({area: area, label: label, width: name.length * 13 + 8});
    });
    var fit = function () {
      labels.forEach(function (one) {
        var box = one.area.getBounds();
        var west = map.latLngToLayerPoint(box.getSouthWest());
        var east = map.latLngToLayerPoint(box.getNorthEast());
        var roomy = Math.abs(east.x - west.x) > one.width && Math.abs(west.y - east.y) > 24;
        if (roomy && !map.hasLayer(one.label)) { one.label.addTo(map); }
        if (!roomy && map.hasLayer(one.label)) { map.removeLayer(one.label); }
      });
    };
    map.on("zoomend", fit);
    fit();
  }

  // The view: the jurisdiction's areas and the points; then the areas under the whole view.
  function base(map, node, points, tiles) {
    var url = node.getAttribute("data-outlines") || "";
    var region = url.indexOf("region=") >= 0;
    var join = url.indexOf("?") < 0 ? "?" : "&";
    var finish = function () { node.setAttribute("data-ready", "true"); };
    if (!window.fetch || !url) { finish(); return; }
    var first = region ? fetchAreas(url) : Promise.resolve([]);
    first.then(function (mine) {
      var view = window.L.latLngBounds(points);
      mine.forEach(function (feature) {
        if (feature.properties.in_region) {
          feature.geometry.coordinates[0].forEach(function (xy) { view.extend([xy[1], xy[0]]); });
        }
      });
      if (view.isValid() && (mine.length || points.length > 1)) {
        map.fitBounds(view, {padding: [10, 10], maxZoom: 11});
      }
      if (!view.isValid() && !points.length) { finish(); return; }
      return fetchAreas(url + join + "bbox=" + map.getBounds().toBBoxString()).then(function (more) {
        if (more.length) { outlinesLayer(map, node, tiles, more); }
        finish();
      });
    }).catch(finish);
  }
  function draw(node) {
    var points = JSON.parse(node.getAttribute("data-points") || "[]");
    if (!window.L) {
      node.classList.add("missing");
      node.textContent = node.getAttribute("data-missing");
      return;
    }
    var map = window.L.map(node, {scrollWheelZoom: false});
    var tiles = node.getAttribute("data-tiles");
    map.attributionControl.addAttribution(node.getAttribute("data-attribution") || "");
    if (tiles) {
      window.L.tileLayer(tiles, {maxZoom: 18, attribution: "&copy; map tiles"}).addTo(map);
    } else {
      node.classList.add("offline");
    }
    var bounds = pointsLayer(map, points);
    if (bounds.length === 1) { map.setView(bounds[0], 9); }
    else if (bounds.length) { map.fitBounds(bounds, {padding: [20, 20]}); }
    else { map.fitBounds(CHINA); }
    base(map, node, bounds, tiles);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".map[data-points]").forEach(draw);
  });
})();
