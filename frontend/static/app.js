/* Nuanxin: behaviour shared by every page. No inline scripts: pages pass data in data-* attributes. */
(function () {
  "use strict";

  function csrfToken() {
    var found = document.cookie.split("; ").find(function (c) { return c.indexOf("nuanxin_csrf=") === 0; });
    return found ? decodeURIComponent(found.split("=")[1]) : "";
  }
  window.nuanxinCsrf = csrfToken;

  // htmx requests carry the CSRF header (forms also carry the _csrf_token field).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["x-nuanxin-csrf"] = csrfToken();
  });

  // Without htmx (its file missing), poll the partials that ask for it ourselves.
  function pollWithoutHtmx(node) {
    var url = node.getAttribute("hx-get");
    var trigger = node.getAttribute("hx-trigger") || "";
    var every = /every (\d+)(ms|s)/.exec(trigger);
    if (!url || !every) { return; }
    var delay = parseInt(every[1], 10) * (every[2] === "s" ? 1000 : 1);
    setTimeout(function () {
      fetch(url, {headers: {"HX-Request": "true"}, credentials: "same-origin"})
        .then(function (answer) { return answer.text(); })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.firstElementChild;
          if (!fresh) { return; }
          node.replaceWith(fresh);
          var redirect = fresh.getAttribute("data-done-url");
          if (redirect && !fresh.getAttribute("hx-trigger")) { window.location.assign(redirect); return; }
          pollWithoutHtmx(fresh);
        })
        .catch(function () { pollWithoutHtmx(node); });
    }, delay);
  }

  // When a polled round finishes, reload the page to show its proposals.
  // (After an outerHTML swap the event's target is the old node: look the fresh one up.)
  document.addEventListener("htmx:afterSettle", function () {
    var node = document.querySelector("[data-done-url]");
    if (node && !node.hasAttribute("hx-trigger")) {
      window.location.assign(node.getAttribute("data-done-url"));
    }
  });

  // The navigation menu: open (its button hidden by the stylesheet) on wide screens, folded on
  // phones; the button says whether it is open.
  function navMenu(menu) {
    var summary = menu.querySelector("summary");
    var wide = window.matchMedia("(min-width: 48.01rem)");
    function sync() { summary.setAttribute("aria-expanded", menu.open ? "true" : "false"); }
    function fit() { menu.open = wide.matches; menu.classList.toggle("always-open", wide.matches); sync(); }
    menu.addEventListener("toggle", sync);
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open && !wide.matches) { menu.open = false; summary.focus(); }
    });
    if (wide.addEventListener) { wide.addEventListener("change", fit); }
    fit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-nav-menu]").forEach(navMenu);
    // "More" closes when the reader clicks elsewhere or presses Escape.
    document.querySelectorAll("[data-nav-more]").forEach(function (more) {
      document.addEventListener("click", function (event) {
        if (more.open && !more.contains(event.target)) { more.open = false; }
      });
      more.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && more.open) { more.open = false; more.querySelector("summary").focus(); }
      });
    });
    if (!window.htmx) {
      document.querySelectorAll("[hx-get][hx-trigger*='every']").forEach(pollWithoutHtmx);
    }
    // Print buttons.
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    // Confirm before destructive posts.
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    // "Select all" checkboxes.
    document.querySelectorAll("input[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        document.querySelectorAll("input[name='" + box.getAttribute("data-select-all") + "']")
          .forEach(function (other) { other.checked = box.checked; });
      });
    });
    // A refused form: the error summary takes the focus, so it is read first.
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
    // Auto-submit filter selects (keyboard users still have the button).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
  });
})();
