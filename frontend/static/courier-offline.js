/* The courier screen without a network.
 *
 * - Registers the service worker (/courier-sw.js, scope /courier), which keeps the courier's
 *   pages and the site's assets; the day's list, seen online, asks it to keep every visit page.
 * - A confirmation typed while the phone is offline is kept in IndexedDB with its own
 *   Idempotency-Key (a UUID), the time at the door and, if the courier agreed, the position;
 *   the bar on top says "N waiting to send".
 * - When the network is back they are sent to /api/visits/{id}/confirm, oldest first. The key
 *   makes a replay harmless: the server confirms once and answers the same. A wrong code typed
 *   offline is held for the civil affairs staff (it never counts toward the lock).
 * The words come from the page (data-* attributes of the bar), in the page's language.
 */
(function () {
  "use strict";
  var box = document.querySelector("[data-outbox]");
  if (!box || !("indexedDB" in window) || !window.Promise) { return; }
  var DB = "nuanxin-courier";
  var STORE = "outbox";
  var CONSENT = "nuanxin-courier-position";
  var FLASH = "nuanxin-courier-flash";
  var ASSETS = [
    "/static/site.css", "/static/app.js", "/static/courier.js", "/static/courier-offline.js",
    "/static/vendor/htmx.org/htmx.min.js",
  ];
  var words = box.dataset;

  function say(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE, {keyPath: "key"}); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode);
        var request = work(t.objectStore(STORE));
        t.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        t.onerror = function () { db.close(); reject(t.error); };
        t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }

  function all() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function keep(record) { return withStore("readwrite", function (s) { return s.put(record); }); }
  function forget(key) { return withStore("readwrite", function (s) { return s.delete(key); }); }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrf() {
    var found = document.cookie.match(/(?:^|; )nuanxin_csrf=([^;]*)/);
    return found ? decodeURIComponent(found[1]) : "";
  }

  function render() {
    return all().then(function (records) {
      var waiting = records.filter(function (r) { return r.state === "waiting"; });
      var count = box.querySelector("[data-outbox-count]");
      var text = say(words.waiting, {n: waiting.length});
      count.textContent = navigator.onLine ? text : words.offline + " · " + text;
      count.setAttribute("data-count", String(waiting.length));
      box.classList.toggle("offline", !navigator.onLine);
      box.hidden = false;
      var notes = box.querySelector("[data-outbox-notes]");
      notes.textContent = "";
      records.filter(function (r) { return r.state !== "waiting"; }).slice(0, 10).forEach(function (r) {
        var item = document.createElement("li");
        item.textContent = say(r.state === "held" ? words.held : words.refused, {ref: r.reference});
        notes.appendChild(item);
      });
      box.querySelector("[data-outbox-clear]").hidden = !notes.children.length;
      var marks = {};  // the list's visits confirmed on this phone: waiting, or sent just now
      sent.forEach(function (id) { marks[id] = words.delivered; });
      waiting.forEach(function (r) { marks[r.visit_id] = words.queued; });
      Object.keys(marks).forEach(function (id) {
        var link = document.querySelector('[data-testid="deliver-visit-' + id + '"]');
        if (!link) { return; }
        var badge = link.querySelector(".queued");
        if (!badge) {
          badge = document.createElement("span");
          badge.className = link.classList.contains("card-link") ? "line queued" : "queued";
          link.appendChild(badge);
        }
        badge.textContent = (link.classList.contains("card-link") ? "" : " · ") + marks[id];
      });
      var here = box.dataset.visitId;
      var mine = here && waiting.some(function (r) { return String(r.visit_id) === here; });
      var notice = box.querySelector("[data-outbox-here]");
      if (notice) { notice.hidden = !mine; }
    });
  }

  var flushing = false;
  var sent = [];  // visits whose confirmation was sent from this page
  function flush() {
    if (flushing || !navigator.onLine) { return Promise.resolve(); }
    flushing = true;
    return all().then(function (records) {
      var waiting = records.filter(function (r) { return r.state === "waiting"; })
        .sort(function (a, b) { return a.made - b.made; });
      var chain = Promise.resolve(true);
      waiting.forEach(function (r) {
        chain = chain.then(function (go) { return go ? send(r) : false; });
      });
      return chain;
    }).catch(function () { return false; }).then(function () {
      flushing = false;
      return render();
    });
  }

  /* One queued confirmation; true to go on with the next one, false to stop for now. */
  function send(r) {
    var body = {code: r.code, offline: true, at_door: r.at_door};
    if (r.position) { body.position = r.position; }
    if (r.safety) { body.safety = r.safety; }
    return fetch("/api/visits/" + r.visit_id + "/confirm", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Idempotency-Key": r.key, "x-nuanxin-csrf": csrf()},
      body: JSON.stringify(body),
    }).then(function (answer) {
      if (answer.status === 401 || answer.status === 429 || answer.status >= 500) {
        if (answer.status === 401) { box.querySelector("[data-outbox-message]").textContent = words.login; }
        return false;
      }
      return answer.json().catch(function () { return {}; }).then(function (json) {
        if (answer.ok && !json.held_for_review) {
          sent.push(r.visit_id);
          box.querySelector("[data-outbox-message]").textContent = say(words.sent, {n: sent.length});
          return forget(r.key).then(function () { return true; });
        }
        r.state = answer.ok ? "held" : "refused";
        r.error = json.error || "";
        r.code = "";  // sent: the household's code is not kept on the phone any longer
        return keep(r).then(function () { return true; });
      });
    }, function () { return false; });  // still no network
  }

  function position() {
    if (localStorage.getItem(CONSENT) !== "yes" || !navigator.geolocation) { return Promise.resolve(null); }
    return new Promise(function (resolve) {
      navigator.geolocation.getCurrentPosition(function (found) {
        resolve({lat: found.coords.latitude, lon: found.coords.longitude, accuracy_m: found.coords.accuracy});
      }, function () { resolve(null); }, {timeout: 5000, maximumAge: 60000});
    });
  }

  function safetyOf(form) {
    if (!form.querySelector("[data-testid=safety-checklist]")) { return null; }
    var value = function (name) {
      var checked = form.querySelector('input[name="safety_' + name + '"]:checked');
      return checked ? checked.value : "";
    };
    return {
      chimney_sealed: value("chimney_sealed") === "yes",
      vent: value("vent") === "yes",
      stove_not_in_bedroom: value("stove_not_in_bedroom") === "yes",
      co_alarm: value("co_alarm"),
      leaflet: value("leaflet") === "yes",
    };
  }

  function queueOffline(form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }  // online: the form is posted as usual
      event.preventDefault();
      if (!form.checkValidity()) { form.reportValidity(); return; }
      var record = {
        key: uuid(),
        visit_id: Number(box.dataset.visitId),
        reference: box.dataset.visitRef || "",
        code: form.querySelector("[name=code]").value.trim(),
        at_door: new Date().toISOString(),
        safety: safetyOf(form),
        state: "waiting",
        made: Date.now(),
      };
      position().then(function (where) {
        if (where) { record.position = where; }
        return keep(record);
      }).then(function () {
        sessionStorage.setItem(FLASH, words.saved);
        if (navigator.serviceWorker && navigator.serviceWorker.controller) {
          window.location.href = "/courier";
        } else {
          box.querySelector("[data-outbox-message]").textContent = words.saved;
          render();
        }
      });
    });
  }

  function keepTheDay() {
    if (!navigator.onLine || !navigator.serviceWorker || !document.getElementById("visit-list")) { return; }
    var urls = [window.location.pathname + window.location.search];
    document.querySelectorAll('#visit-list a[href^="/courier/visits/"]').forEach(function (a) {
      urls.push(a.getAttribute("href"));
    });
    document.querySelectorAll("script[src], link[rel=stylesheet]").forEach(function (el) {
      var src = el.getAttribute("src") || el.getAttribute("href");
      if (src && src.indexOf("/static/") === 0) { urls.push(src); }
    });
    urls = urls.concat(ASSETS);
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "kept") { box.setAttribute("data-kept", "true"); }
    });
    navigator.serviceWorker.ready.then(function (registration) {
      registration.active.postMessage({type: "keep", urls: urls});
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var flash = sessionStorage.getItem(FLASH);
    if (flash) {
      sessionStorage.removeItem(FLASH);
      box.querySelector("[data-outbox-message]").textContent = flash;
    }
    var consent = document.getElementById("share-position");
    if (consent) {
      consent.checked = localStorage.getItem(CONSENT) === "yes";
      consent.addEventListener("change", function () {
        localStorage.setItem(CONSENT, consent.checked ? "yes" : "no");
      });
    }
    box.querySelector("[data-outbox-clear]").addEventListener("click", function () {
      all().then(function (records) {
        return Promise.all(records.filter(function (r) { return r.state !== "waiting"; })
          .map(function (r) { return forget(r.key); }));
      }).then(render);
    });
    // Logging out leaves no household's page on the phone (what waits to be sent stays).
    document.querySelectorAll('form[action="/login/logout"]').forEach(function (logout) {
      logout.addEventListener("submit", function () {
        if (window.caches) { caches.delete("nuanxin-courier-pages-v1"); }
      });
    });
    var form = document.querySelector("form[data-testid=confirm-form]");
    if (form && box.dataset.visitId) { queueOffline(form); }
    if (navigator.serviceWorker) {
      navigator.serviceWorker.register("/courier-sw.js", {scope: "/courier"}).then(keepTheDay, function () {});
    }
    window.addEventListener("online", flush);
    window.addEventListener("offline", render);
    window.setInterval(flush, 30000);
    render().then(flush);
  });
})();
