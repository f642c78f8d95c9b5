/**
 * The incident page's live update, served as /assets/live.js (the page's CSP allows scripts from
 * 'self' only). Every 2 s it asks GET /api/incidents/ID; when the state, version or decisions changed,
 * it fetches the page again and swaps in the changed sections — no reload, and a half-typed reject
 * reason survives while the state holds. The countdown ticks every second in wall-clock time; on the
 * demo's virtual clock it says so ("35 min virtual ≈ 35 s real"). Reads nothing but its own origin.
 */
export const LIVE_SCRIPT = String.raw`(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live) return;
  var id = live.getAttribute('data-incident');
  var speed = Number(live.getAttribute('data-speed')) || 1;
  var virtual = live.getAttribute('data-virtual') === 'true';
  var expiresAt = Number(live.getAttribute('data-expires')) || 0;
  var serverNow = Number(live.getAttribute('data-now')) || 0;
  var seen = live.getAttribute('data-signature') || '';
  var fetchedAt = Date.now();
  var SECTIONS = ['mutes', 'suspect', 'chart', 'signals', 'evidence', 'steps', 'timeline', 'decisions', 'audit'];
  var COUNTS = ['approvals-count', 'still-needed', 'approved-by', 'can-approve', 'approve-command'];
  function fmt(ms) {
    if (ms <= 0) return 'expired';
    var m = Math.floor(ms / 60000), s = Math.floor((ms % 60000) / 1000);
    return m >= 60 ? Math.floor(m / 60) + ' h ' + (m % 60) + ' min' : m + ' min ' + s + ' s';
  }
  function tick() {
    var el = document.getElementById('remaining');
    if (el && expiresAt) {
      var left = expiresAt - serverNow - (Date.now() - fetchedAt) * speed;
      el.textContent = virtual ? (left <= 0 ? 'expired' : fmt(left) + ' virtual ≈ ' + fmt(left / speed) + ' real') : fmt(left);
    }
  }
  function swap(doc, ids) {
    ids.forEach(function (k) {
      var now = document.getElementById(k), next = doc.getElementById(k);
      if (now && next) now.replaceWith(next);
      else if (now && !next) now.remove();
      else if (!now && next && k !== 'approve-command') {
        var anchor = document.getElementById('audit');
        if (anchor) anchor.before(next);
      }
    });
  }
  function refresh(stateChanged) {
    return fetch(location.pathname + location.search, { cache: 'no-store', credentials: 'same-origin' }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      swap(doc, ['state'].concat(SECTIONS));
      if (stateChanged) swap(doc, ['approval', 'notice']);
      else swap(doc, COUNTS);
      var l = doc.getElementById('live');
      if (l) expiresAt = Number(l.getAttribute('data-expires')) || 0;
    });
  }
  function poll() {
    fetch('/api/incidents/' + encodeURIComponent(id), { cache: 'no-store' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (d) {
      if (!d) return;
      serverNow = d.now; fetchedAt = Date.now();
      var sig = d.incident.state + '/' + d.incident.version + '/' + d.decisions.length;
      if (sig === seen) return;
      var stateChanged = sig.split('/')[0] !== seen.split('/')[0];
      seen = sig;
      live.setAttribute('data-signature', sig);
      return refresh(stateChanged);
    }).catch(function () {}).then(function () { setTimeout(poll, 2000); });
  }
  setInterval(tick, 1000);
  tick();
  setTimeout(poll, 2000);
})();
`;
