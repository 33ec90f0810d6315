// The CAPTCHA's non-visual alternative (K2): when the person presses 「画像の文字を入力せずに確認する」, fetch a
// proof-of-work challenge for this flow, solve it with WebCrypto (PBKDF2/SHA-256, as altcha-lib checks it), put the
// solution in the form's hidden "pow" field and say so in the status region. 「次へ」 then passes without the
// characters. Without this script (or WebCrypto) the button stays hidden and the page points to the call center.
(function () {
  'use strict';
  var box = document.querySelector('.captcha-pow[data-pow-url]');
  if (!box) return;
  var button = box.querySelector('[data-pow-start]');
  var status = box.querySelector('[role="status"]');
  var field = box.querySelector('input[name="pow"]');
  if (!button || !status || !field) return;
  var subtle = window.crypto && window.crypto.subtle;
  box.hidden = false;

  function say(key) {
    status.textContent = box.getAttribute('data-' + key) || '';
  }
  if (!subtle || !window.fetch || !window.TextEncoder) {
    button.hidden = true;
    say('unsupported');
    return;
  }
  // The field's description now names this way too, right after its own help (W2).
  var input = document.getElementById('captcha');
  var lead = button.getAttribute('aria-describedby');
  if (input && lead) {
    var ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    if (ids.indexOf(lead) < 0) ids.splice(Math.min(1, ids.length), 0, lead);
    input.setAttribute('aria-describedby', ids.join(' '));
  }

  function fromHex(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function toHex(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
    return s;
  }
  function startsWith(key, prefix) {
    for (var i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
    return true;
  }

  // The derived key for one counter: PBKDF2(password = nonce ‖ uint32 big-endian counter, salt, cost).
  function derive(p, nonce, salt, counter) {
    var password = new Uint8Array(nonce.length + 4);
    password.set(nonce, 0);
    new DataView(password.buffer).setUint32(nonce.length, counter, false);
    return subtle
      .importKey('raw', password, { name: 'PBKDF2' }, false, ['deriveBits'])
      .then(function (key) {
        return subtle.deriveBits(
          { name: 'PBKDF2', salt: salt, iterations: p.cost, hash: 'SHA-256' },
          key,
          (p.keyLength || 32) * 8,
        );
      })
      .then(function (bits) {
        return new Uint8Array(bits);
      });
  }

  // Several counters are tried at once (WebCrypto runs them off the page's thread); the first match wins.
  function solve(challenge) {
    var p = challenge.parameters;
    if (p.algorithm !== 'PBKDF2/SHA-256') return Promise.reject(new Error('algorithm'));
    var nonce = fromHex(p.nonce),
      salt = fromHex(p.salt),
      prefix = fromHex(p.keyPrefix);
    var lanes = 4,
      limit = 10000000,
      found = null,
      started = Date.now();
    function lane(counter) {
      if (found || counter > limit || Date.now() - started > 120000) return Promise.resolve();
      return derive(p, nonce, salt, counter).then(function (key) {
        if (found) return;
        if (startsWith(key, prefix)) {
          found = { counter: counter, derivedKey: toHex(key) };
          return;
        }
        return lane(counter + lanes);
      });
    }
    var all = [];
    for (var i = 0; i < lanes; i++) all.push(lane(i));
    return Promise.all(all).then(function () {
      if (!found) throw new Error('not found');
      return found;
    });
  }

  button.addEventListener('click', function () {
    if (button.disabled) return;
    button.disabled = true;
    field.value = '';
    say('working');
    fetch(box.getAttribute('data-pow-url'), { credentials: 'same-origin', headers: { accept: 'application/json' } })
      .then(function (r) {
        if (!r.ok) throw new Error('status ' + r.status);
        return r.json();
      })
      .then(function (body) {
        if (body.limited) {
          say('limited');
          return;
        }
        return solve(body.challenge).then(function (solution) {
          field.value = btoa(JSON.stringify({ challenge: body.challenge, solution: solution }));
          say('done');
        });
      })
      .catch(function () {
        button.disabled = false;
        say('failed');
      });
  });
})();
