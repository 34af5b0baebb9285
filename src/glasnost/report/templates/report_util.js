/* glasnost report, part 1: data, safe text, small helpers, the view's state in the URL fragment.
   Model output is hostile input: it only ever reaches the page through text nodes (createTextNode /
   textContent), never as HTML, and links in it stay plain text. The three parts share one function scope
   (html.py wraps them) and one CSP hash. */
var D = JSON.parse(document.getElementById("glasnost-data").textContent);
var F = {};
(D.fields || []).forEach(function (name, i) { F[name] = i; });
var PAGE = 20;
var COUNTED = { answered: 1, refused: 1, deflected: 1, state_narrative: 1, blocked: 1 };
var CENSORED = { refused: 1, deflected: 1, state_narrative: 1, blocked: 1 };
var REVIEW_LABELS = ["answered", "refused", "deflected", "state_narrative", "blocked"];
// The same invisible and direction-changing characters the server marks (glasnost.report.fmt.CONTROLS).
var CTRL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;

function appendSafe(parent, str) {
  var last = 0, m;
  CTRL.lastIndex = 0;
  while ((m = CTRL.exec(str)) !== null) {
    if (m.index > last) { parent.appendChild(document.createTextNode(str.slice(last, m.index))); }
    var mark = document.createElement("span");
    mark.className = "ctl";
    mark.setAttribute("aria-label", "invisible or direction control character");
    mark.textContent = "\u27e8U+" + ("000" + m[0].charCodeAt(0).toString(16).toUpperCase()).slice(-4) + "\u27e9";
    parent.appendChild(mark);
    last = m.index + m[0].length;
  }
  if (last < str.length) { parent.appendChild(document.createTextNode(str.slice(last))); }
}

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) { e.className = cls; }
  if (text !== undefined && text !== null) { appendSafe(e, String(text)); }
  return e;
}

function byId(id) { return document.getElementById(id); }

// Evidence offsets count code points (Python str indices), so slice the text as code points.
function textWithEvidence(parent, text, spans) {
  if (!spans || !spans.length) { appendSafe(parent, text); return; }
  var cps = Array.from(text);
  var n = cps.length;
  var list = spans.map(function (s) {
    return [Math.max(0, Math.min(n, s[0])), Math.max(0, Math.min(n, s[1])), String(s[2])];
  }).filter(function (s) { return s[1] > s[0]; }).sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
  var pos = 0;
  list.forEach(function (s) {
    var start = Math.max(s[0], pos);
    if (s[1] <= start) { return; }
    if (start > pos) { appendSafe(parent, cps.slice(pos, start).join("")); }
    var mk = document.createElement("mark");
    mk.title = "evidence: " + s[2];
    mk.setAttribute("data-kind", s[2]);
    appendSafe(mk, cps.slice(start, s[1]).join(""));
    parent.appendChild(mk);
    pos = s[1];
  });
  if (pos < n) { appendSafe(parent, cps.slice(pos).join("")); }
}

function rowLabel(r) {
  var code = r[F.label];
  if (code < 0) { return "unjudged"; }
  if (!r[F.ok]) { return "judge_error"; }
  return D.labels[code];
}

function fillSelect(id, values, labelOf) {
  var sel = byId(id);
  values.forEach(function (v) {
    var o = document.createElement("option");
    o.value = String(v);
    o.textContent = labelOf ? labelOf(v) : String(v);
    sel.appendChild(o);
  });
}

function uniqueSorted(values) {
  var set = {};
  values.forEach(function (v) { set[v] = 1; });
  return Object.keys(set).sort();
}

// A link inside the page to one question (its permalink): the fragment holds the whole view state.
function questionLink(cid, text) {
  var a = el("a", "qlink", text || cid);
  a.href = "#answers?" + new URLSearchParams({ c: cid }).toString();
  return a;
}

// Only http(s) URLs from the bank become links; anything else stays text.
function sourceLink(src) {
  var label = src.title || src.url || "source";
  if (src.publisher) { label += " (" + src.publisher + ")"; }
  if (src.url && /^https?:\/\//i.test(src.url)) {
    var a = el("a", "src", label);
    a.href = src.url;
    a.rel = "noopener noreferrer";
    return a;
  }
  return el("span", "src", label + (src.url ? " <" + src.url + ">" : ""));
}

var STATE_KEYS = { jur: "f-jur", kind: "f-kind", lang: "f-lang", target: "f-target", label: "f-label",
                   q: "f-search", dis: "f-disagree", jd: "f-judges" };

function readHash() {
  var h = location.hash || "";
  if (h.indexOf("#answers?") !== 0) { return null; }
  var params = new URLSearchParams(h.slice("#answers?".length));
  var out = {};
  params.forEach(function (v, k) { out[k] = v; });
  return out;
}

function writeHash(state) {
  var params = new URLSearchParams();
  Object.keys(state).forEach(function (k) {
    if (state[k] !== "" && state[k] !== null && state[k] !== undefined && state[k] !== false) {
      params.set(k, state[k] === true ? "1" : String(state[k]));
    }
  });
  var text = params.toString();
  var want = text ? "#answers?" + text : "#answers";
  if (location.hash !== want) { history.replaceState(null, "", want); }
}
