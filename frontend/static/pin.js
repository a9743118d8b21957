/* The pin on a household's page (partials/household_pin.html.j2): a Leaflet map with one
   draggable marker at the household's point; a click or a drag writes the new point into the
   latitude and longitude boxes, which the form sends (they work alone without JavaScript).
   The offline base of approximate county areas is drawn under it; tiles when configured. */
(function () {
  "use strict";

  function outlines(map, node) {
    var url = node.getAttribute("data-outlines");
    if (!url || !window.fetch) { return; }
    fetch(url + "?bbox=" + map.getBounds().toBBoxString(), {credentials: "same-origin"})
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) {
        if (!data || !data.features) { return; }
        window.L.geoJSON(data, {interactive: false, style: function () {
          return {color: "#7a5c3e", weight: 1, dashArray: "5 3", fill: !node.getAttribute("data-tiles"),
                  fillColor: "#fffaf2", fillOpacity: 1};
        }}).addTo(map).bringToBack();
      })
      .catch(function () { return null; });
  }

  function draw(node) {
    var form = node.parentNode.querySelector("form");
    var lat = form && form.querySelector("input[name=lat]");
    var lon = form && form.querySelector("input[name=lon]");
    if (!window.L) {
      node.classList.add("missing");
      node.textContent = node.getAttribute("data-missing");
      return;
    }
    var here = [parseFloat(node.getAttribute("data-lat")), parseFloat(node.getAttribute("data-lon"))];
    var map = window.L.map(node, {scrollWheelZoom: false}).setView(here, 12);
    var tiles = node.getAttribute("data-tiles");
    map.attributionControl.addAttribution(node.getAttribute("data-attribution") || "");
    if (tiles) {
      window.L.tileLayer(tiles, {maxZoom: 18, attribution: "&copy; map tiles"}).addTo(map);
    } else {
      node.classList.add("offline");
    }
    var marker = window.L.marker(here, {draggable: true, keyboard: true,
                                        title: node.getAttribute("aria-label") || ""}).addTo(map);
    var put = function (point) {
      if (lat && lon) {
        lat.value = point.lat.toFixed(6);
        lon.value = point.lng.toFixed(6);
      }
    };
    marker.on("dragend", function () { put(marker.getLatLng()); });
    map.on("click", function (event) { marker.setLatLng(event.latlng); put(event.latlng); });
    outlines(map, node);
    node.setAttribute("data-ready", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".pin-map").forEach(draw);
  });
})();
