/* The campaign page's card form: Stripe.js (from Stripe), a PaymentIntent from our API, confirm. */
(function () {
  "use strict";
  var form = document.getElementById("give");
  if (!form) { return; }
  var status = document.getElementById("give-status");
  var missing = document.getElementById("stripe-missing");
  var button = form.querySelector("button");
  var formKey = (window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random())
    .replace(/[^A-Za-z0-9]/g, "").padEnd(16, "0");  // one per page: a double submit charges once
  var stripe = null, card = null;

  function stripeUnavailable() {
    missing.hidden = false;
    button.disabled = true;
  }
  function setUp() {
    if (stripe) { return; }
    if (!window.Stripe) { stripeUnavailable(); return; }
    stripe = window.Stripe(form.dataset.key);
    card = stripe.elements().create("card");
    card.mount("#card");
  }
  var tag = document.getElementById("stripe-js");
  if (tag) { tag.addEventListener("error", stripeUnavailable); tag.addEventListener("load", setUp); }
  if (window.Stripe) { setUp(); }
  window.addEventListener("load", setUp);
  setTimeout(function () { if (!stripe) { stripeUnavailable(); } }, 10000);

  // "12.34" -> 1234 fen, in integers only (never through a float).
  function toFen(text) {
    var m = /^(\d{1,6})(?:\.(\d{1,2}))?$/.exec(text.trim());
    if (!m) { return null; }
    return parseInt(m[1], 10) * 100 + parseInt((m[2] || "0").padEnd(2, "0"), 10);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var fen = toFen(form.amount.value);
    if (fen === null || fen < 100) { status.textContent = form.dataset.msgAmount; return; }
    button.disabled = true;
    status.textContent = form.dataset.msgProcessing;
    var answer = await fetch("/api/campaigns/" + form.dataset.campaign + "/donations", {
      method: "POST",
      headers: {"content-type": "application/json", "x-nuanxin-csrf": window.nuanxinCsrf ? window.nuanxinCsrf() : ""},
      body: JSON.stringify({amount_fen: fen, donor_name: form.donor_name.value,
                            donor_email: form.donor_email.value, idempotency_key: formKey}),
    });
    var started = await answer.json();
    if (!answer.ok) { status.textContent = started.detail; button.disabled = false; return; }
    var result = await stripe.confirmCardPayment(started.client_secret, {payment_method: {card: card}});
    if (result.error) {
      status.textContent = result.error.message;
      button.disabled = false;
      return;
    }
    window.location.href = "/donations/" + started.tracking_code;
  });
})();
