/* The courier screen: fill the reason from common ones; scan the slip's QR code with the camera
   where the browser can (BarcodeDetector reading QR codes, a camera, permission given). Where it
   cannot, the scan button stays hidden or says so, and the code is typed: the form never needs
   the camera. */
(function () {
  "use strict";
  function digits(text) { return String(text || "").replace(/\D/g, ""); }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-fill]").forEach(function (select) {
      select.addEventListener("change", function () {
        if (select.value) { document.getElementById(select.getAttribute("data-fill")).value = select.value; }
      });
    });
    var button = document.getElementById("scan");
    var video = document.getElementById("scan-video");
    var input = document.getElementById("code");
    var help = document.getElementById("scan-help");
    if (!button || !input) { return; }
    function typeInstead() {
      button.hidden = true;
      if (help) { help.hidden = false; }
      input.focus();
    }
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return;  // typing is the way: nothing to offer
    }
    var formats = window.BarcodeDetector.getSupportedFormats
      ? window.BarcodeDetector.getSupportedFormats() : Promise.resolve(["qr_code"]);
    formats.then(function (known) {
      if (known.indexOf("qr_code") < 0) { return; }
      var label = button.textContent;
      button.hidden = false;
      var stream = null;
      function stop() {
        if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
        stream = null; video.hidden = true; button.textContent = label;
      }
      button.addEventListener("click", function () {
        if (stream) { stop(); return; }
        var detector = new window.BarcodeDetector({formats: ["qr_code"]});
        navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}}).then(function (got) {
          stream = got;
          button.textContent = button.getAttribute("data-stop") || label;
          video.srcObject = stream; video.hidden = false;
          return video.play();
        }).then(function () {
          (function look() {
            if (!stream) { return; }
            detector.detect(video).catch(function () { return []; }).then(function (found) {
              var code = found.length ? digits(found[0].rawValue) : "";
              if (code) { input.value = code; stop(); input.focus(); return; }
              window.requestAnimationFrame(look);
            });
          })();
        }).catch(function () { stop(); typeInstead(); });  // refused or no camera
      });
    }).catch(function () { /* no formats: type the code */ });
  });
})();
