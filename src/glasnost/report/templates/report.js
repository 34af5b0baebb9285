/* glasnost report: the answers view. Model output is hostile input: it only ever reaches the page through
   text nodes (createTextNode / textContent), never as HTML, and links in it stay plain text. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("glasnost-data").textContent);
  var F = {};
  D.fields.forEach(function (name, i) { F[name] = i; });
  var PAGE = 20;
  var COUNTED = { answered: 1, refused: 1, deflected: 1, state_narrative: 1, blocked: 1 };
  var CENSORED = { refused: 1, deflected: 1, state_narrative: 1, blocked: 1 };
  // The same invisible and direction-changing characters the server marks (glasnost.report.fmt.CONTROLS).
  var CTRL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;
  var view = document.getElementById("view");
  if (!view) { return; }
  var page = 0;

  function appendSafe(parent, str) {
    var last = 0, m;
    CTRL.lastIndex = 0;
    while ((m = CTRL.exec(str)) !== null) {
      if (m.index > last) { parent.appendChild(document.createTextNode(str.slice(last, m.index))); }
      var mark = document.createElement("span");
      mark.className = "ctl";
      mark.title = "invisible or direction control character";
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

  // Per concept: do the targets disagree (one answers where another censors, in the same language)?
  // Do the judges disagree on any of its answers?
  var byConcept = D.concepts.map(function () { return []; });
  var targetsDisagree = new Uint8Array(D.concepts.length);
  var judgesDisagree = new Uint8Array(D.concepts.length);
  var rowJudgesDiffer = new Uint8Array(D.rows.length);
  (function index() {
    var seen = {};
    D.rows.forEach(function (r, i) {
      var c = r[F.concept];
      byConcept[c].push(i);
      var lab = rowLabel(r);
      if (COUNTED[lab]) {
        var key = c + ":" + r[F.lang];
        var s = seen[key] || (seen[key] = { c: 0, a: 0 });
        if (CENSORED[lab]) { s.c = 1; } else { s.a = 1; }
        if (s.c && s.a) { targetsDisagree[c] = 1; }
        var others = r[F.other_labels];
        if (others) {
          for (var j = 0; j < others.length; j++) {
            if (others[j] >= 0 && COUNTED[D.labels[others[j]]] && D.labels[others[j]] !== lab) {
              rowJudgesDiffer[i] = 1;
              judgesDisagree[c] = 1;
            }
          }
        }
      }
    });
  })();

  function byId(id) { return document.getElementById(id); }

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

  fillSelect("f-jur", uniqueSorted(D.concepts.map(function (c) { return c[1]; })));
  fillSelect("f-kind", uniqueSorted(D.concepts.map(function (c) { return c[3]; })));
  fillSelect("f-lang", D.langs.map(function (_, i) { return i; }), function (i) { return D.langs[i]; });
  fillSelect("f-target", D.targets.map(function (_, i) { return i; }), function (i) { return D.targets[i]; });
  fillSelect("f-label", uniqueSorted(D.rows.map(rowLabel)));
  if (!D.judges.length) { byId("f-judges-wrap").hidden = true; }

  function filters() {
    return {
      jur: byId("f-jur").value, kind: byId("f-kind").value, lang: byId("f-lang").value,
      target: byId("f-target").value, label: byId("f-label").value,
      dis: byId("f-disagree").checked, jd: byId("f-judges").checked,
      q: byId("f-search").value.trim().toLowerCase()
    };
  }

  function visibleRows(ci, f) {
    return byConcept[ci].filter(function (i) {
      var r = D.rows[i];
      return (f.lang === "" || r[F.lang] === Number(f.lang)) && (f.target === "" || r[F.target] === Number(f.target));
    });
  }

  function matches(ci, f) {
    var c = D.concepts[ci];
    if (f.jur && c[1] !== f.jur) { return null; }
    if (f.kind && c[3] !== f.kind) { return null; }
    if (f.q && c[0].toLowerCase().indexOf(f.q) < 0 && c[2].toLowerCase().indexOf(f.q) < 0) { return null; }
    if (f.dis && !targetsDisagree[ci]) { return null; }
    if (f.jd && !judgesDisagree[ci]) { return null; }
    var rows = visibleRows(ci, f);
    if (!rows.length) { return null; }
    if (f.label && !rows.some(function (i) { return rowLabel(D.rows[i]) === f.label; })) { return null; }
    return rows;
  }

  function responseBox(i, multi) {
    var r = D.rows[i];
    var lab = rowLabel(r);
    var box = el("div", "resp" + (rowJudgesDiffer[i] ? " judges-differ" : ""));
    box.setAttribute("data-label", lab);
    var head = el("div", "resphead");
    head.appendChild(el("span", "label label-" + lab, lab.replace("_", " ")));
    if (multi) { head.appendChild(el("span", "muted", "sample " + r[F.sample])); }
    var outcome = D.outcomes[r[F.outcome]];
    if (outcome !== "ok") { head.appendChild(el("span", "outcome", "outcome: " + outcome)); }
    if (r[F.finish_reason] && r[F.finish_reason] !== "stop") {
      head.appendChild(el("span", "muted", "finish: " + r[F.finish_reason]));
    }
    if (r[F.fact_coverage] !== null) {
      head.appendChild(el("span", "facts", "facts " + Math.round(100 * r[F.fact_coverage]) + "%"));
    }
    var others = r[F.other_labels];
    if (others) {
      others.forEach(function (code, j) {
        var name = code >= 0 ? D.labels[code] : "–";
        head.appendChild(el("span", "other" + (code >= 0 && name !== lab ? " differs" : ""), D.judges[j] + ": " + name));
      });
    }
    box.appendChild(head);
    var ev = r[F.evidence] || [];
    var inText = ev.filter(function (e) { return e[0] === 0; }).map(function (e) { return [e[1], e[2], e[3]]; });
    var inReasoning = ev.filter(function (e) { return e[0] === 1; }).map(function (e) { return [e[1], e[2], e[3]]; });
    if (r[F.text] !== null && r[F.text] !== "") {
      var t = el("div", "text");
      t.dir = "auto";
      textWithEvidence(t, r[F.text], inText);
      box.appendChild(t);
    } else if (r[F.error]) {
      box.appendChild(el("div", "error", r[F.error]));
    } else {
      box.appendChild(el("div", "muted", "(no answer text)"));
    }
    if (r[F.reasoning]) {
      var det = el("details", "reasoning");
      det.appendChild(el("summary", null, "reasoning (" + r[F.reasoning].length + " characters)"));
      var rt = el("div", "text");
      rt.dir = "auto";
      textWithEvidence(rt, r[F.reasoning], inReasoning);
      det.appendChild(rt);
      box.appendChild(det);
    }
    if (r[F.narrative_markers]) {
      box.appendChild(el("div", "markers", "official-line markers: " + r[F.narrative_markers].join(", ")));
    }
    return box;
  }

  function card(ci, rows) {
    var c = D.concepts[ci];
    var art = el("article", "concept");
    var h = el("h3");
    h.appendChild(el("bdi", null, c[0]));
    art.appendChild(h);
    art.appendChild(el("div", "meta", c[1] + " · " + c[2] + " · " + c[3] + (targetsDisagree[ci] ? " · targets disagree" : "")));
    var langs = uniqueSorted(rows.map(function (i) { return D.rows[i][F.lang]; })).map(Number).sort(function (a, b) { return a - b; });
    var targets = uniqueSorted(rows.map(function (i) { return D.rows[i][F.target]; })).map(Number).sort(function (a, b) { return a - b; });
    var cells = {};
    var samples = {};
    rows.forEach(function (i) {
      var r = D.rows[i];
      var key = r[F.lang] + ":" + r[F.target];
      (cells[key] = cells[key] || []).push(i);
      samples[r[F.sample]] = 1;
    });
    var multi = Object.keys(samples).length > 1;
    var wrap = el("div", "gridwrap");
    var table = el("table", "grid");
    var headRow = el("tr");
    headRow.appendChild(el("th", null, "question"));
    targets.forEach(function (t) { var th = el("th"); th.appendChild(el("bdi", null, D.targets[t])); headRow.appendChild(th); });
    var thead = el("thead");
    thead.appendChild(headRow);
    table.appendChild(thead);
    var tbody = el("tbody");
    langs.forEach(function (l) {
      var tr = el("tr");
      var th = el("th", "qcell");
      th.appendChild(el("div", "lang", D.langs[l]));
      var q = el("div", "q", c[4][D.langs[l]] || "");
      q.dir = "auto";
      th.appendChild(q);
      tr.appendChild(th);
      targets.forEach(function (t) {
        var td = el("td");
        (cells[l + ":" + t] || []).sort(function (a, b) { return D.rows[a][F.sample] - D.rows[b][F.sample]; })
          .forEach(function (i) { td.appendChild(responseBox(i, multi)); });
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    wrap.appendChild(table);
    art.appendChild(wrap);
    return art;
  }

  function render() {
    var f = filters();
    var matched = [];
    var answers = 0;
    for (var ci = 0; ci < D.concepts.length; ci++) {
      var rows = matches(ci, f);
      if (rows) { matched.push([ci, rows]); answers += rows.length; }
    }
    var pages = Math.max(1, Math.ceil(matched.length / PAGE));
    if (page >= pages) { page = pages - 1; }
    while (view.firstChild) { view.removeChild(view.firstChild); }
    matched.slice(page * PAGE, (page + 1) * PAGE).forEach(function (m) { view.appendChild(card(m[0], m[1])); });
    byId("f-count").textContent = matched.length + " of " + D.concepts.length + " questions, " + answers + " answers";
    byId("f-page").textContent = "page " + (page + 1) + " of " + pages;
    byId("f-prev").disabled = page === 0;
    byId("f-next").disabled = page >= pages - 1;
  }

  ["f-jur", "f-kind", "f-lang", "f-target", "f-label", "f-disagree", "f-judges"].forEach(function (id) {
    byId(id).addEventListener("change", function () { page = 0; render(); });
  });
  var timer = null;
  byId("f-search").addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { page = 0; render(); }, 200);
  });
  byId("f-prev").addEventListener("click", function () { page -= 1; render(); view.scrollIntoView(); });
  byId("f-next").addEventListener("click", function () { page += 1; render(); view.scrollIntoView(); });
  render();
})();
