/* The courier's service worker, served as /courier-sw.js with the scope /courier.
 *
 * Workbox comes from this site (frontend/vendor.py puts it under /static/vendor/), never from
 * a CDN. The courier's pages are fetched from the network first and kept, so that the day's
 * list and each visit page open without a network; the site's scripts and styles are kept
 * too. Confirmations typed offline are not handled here: courier-offline.js queues them in
 * IndexedDB and sends them when the network is back.
 */
/* global workbox */
importScripts("/static/vendor/workbox-sw/workbox-sw.js");

workbox.setConfig({
  debug: false,
  modulePathCb: function (name) { return "/static/vendor/" + name + "/" + name + ".prod.js"; },
});

var PAGES = "nuanxin-courier-pages-v1";
var ASSETS = "nuanxin-courier-assets-v1";

// Never keep an answer that was redirected elsewhere (a login page when the session ended).
var onlyDirect = {
  cacheWillUpdate: async function (args) {
    return args.response && !args.response.redirected ? args.response : null;
  },
};

workbox.routing.registerRoute(
  function (options) {
    return options.request.mode === "navigate" && options.url.pathname.indexOf("/courier") === 0;
  },
  new workbox.strategies.NetworkFirst({
    cacheName: PAGES,
    networkTimeoutSeconds: 6,
    matchOptions: {ignoreVary: true},
    plugins: [
      onlyDirect,
      new workbox.cacheableResponse.CacheableResponsePlugin({statuses: [200]}),
      new workbox.expiration.ExpirationPlugin({maxEntries: 400, maxAgeSeconds: 3 * 24 * 3600}),
    ],
  })
);

workbox.routing.registerRoute(
  function (options) {
    return options.url.origin === self.location.origin && options.url.pathname.indexOf("/static/") === 0;
  },
  new workbox.strategies.StaleWhileRevalidate({
    cacheName: ASSETS,
    plugins: [new workbox.cacheableResponse.CacheableResponsePlugin({statuses: [200]})],
  })
);

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

// The page asks for the day's visit pages (and the assets they use) to be kept: a list seen
// online warms them, four at a time.
function keepOne(url) {
  var path = new URL(url, self.location.origin);
  if (path.origin !== self.location.origin) { return Promise.resolve(); }
  var name = path.pathname.indexOf("/courier") === 0 ? PAGES
    : path.pathname.indexOf("/static/") === 0 ? ASSETS : null;
  if (!name) { return Promise.resolve(); }
  return fetch(path.href, {credentials: "same-origin"}).then(function (response) {
    if (!response.ok || response.redirected) { return null; }
    return caches.open(name).then(function (cache) { return cache.put(path.href, response); });
  }).catch(function () { return null; });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type !== "keep" || !Array.isArray(data.urls)) { return; }
  var queue = data.urls.slice(0, 400);
  var workers = [0, 1, 2, 3].map(function () {
    var next = function () {
      var url = queue.shift();
      return url === undefined ? Promise.resolve() : keepOne(url).then(next);
    };
    return next();
  });
  var done = Promise.all(workers).then(function () {
    if (event.source) { event.source.postMessage({type: "kept", count: data.urls.length}); }
  });
  event.waitUntil(done);
});
