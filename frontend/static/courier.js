/* The courier screen: fill the reason from common ones; scan the slip's QR code where the browser can. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-fill]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.value) { document.getElementById(select.getAttribute("data-fill")).value = select.value; }
      });
    });
    var button = document.getElementById("scan");
    var video = document.getElementById("scan-video");
    var input = document.getElementById("code");
    if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    button.hidden = false;
    var stream = null;
    function stop() {
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      stream = null; video.hidden = true;
    }
    button.addEventListener("click", async function () {
      if (stream) { stop(); return; }
      var detector = new window.BarcodeDetector({formats: ["qr_code"]});
      stream = await navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}});
      video.srcObject = stream; video.hidden = false; await video.play();
      (async function look() {
        if (!stream) { return; }
        var found = await detector.detect(video).catch(function () { return []; });
        if (found.length) { input.value = found[0].rawValue.trim(); stop(); input.focus(); return; }
        requestAnimationFrame(look);
      })();
    });
  });
})();
