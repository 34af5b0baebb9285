/* glasnost report, part 3: the answers view, question by question, with the evidence for each verdict. */
var view = byId("view");
if (!view) { return; }
var page = 0, focus = "", showAll = false, hay = null;
var shortName = D.short || D.targets;

// Per concept: do the targets disagree (one answers where another censors, in the same language)?
// Do the judges disagree on any of its answers?
var byConcept = D.concepts.map(function () { return []; });
var targetsDisagree = new Uint8Array(D.concepts.length);
var judgesDisagree = new Uint8Array(D.concepts.length);
var rowJudgesDiffer = new Uint8Array(D.rows.length);
var conceptIndex = {};
D.concepts.forEach(function (c, i) { conceptIndex[c[0]] = i; });
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

// Full-text search: one lower-cased haystack per question (its id, topic, questions and every answer),
// built on the first search only.
function haystack(ci) {
  if (hay === null) {
    hay = D.concepts.map(function (c) {
      var parts = [c[0], c[2]];
      Object.keys(c[4]).forEach(function (l) { parts.push(c[4][l]); });
      return parts;
    });
    D.rows.forEach(function (r) {
      var parts = hay[r[F.concept]];
      if (r[F.text]) { parts.push(r[F.text]); }
      if (r[F.reasoning]) { parts.push(r[F.reasoning]); }
    });
    hay = hay.map(function (parts) { return parts.join("\n").toLowerCase(); });
  }
  return hay[ci];
}

fillSelect("f-jur", uniqueSorted(D.concepts.map(function (c) { return c[1]; })));
fillSelect("f-kind", uniqueSorted(D.concepts.map(function (c) { return c[3]; })));
fillSelect("f-lang", D.langs.map(function (_, i) { return i; }), function (i) { return D.langs[i]; });
fillSelect("f-target", D.targets.map(function (_, i) { return i; }), function (i) { return shortName[i]; });
fillSelect("f-label", uniqueSorted(D.rows.map(rowLabel)));
if (!D.judges.length) { byId("f-judges-wrap").hidden = true; }

function filters() {
  return {
    jur: byId("f-jur").value, kind: byId("f-kind").value, lang: byId("f-lang").value,
    target: byId("f-target").value, label: byId("f-label").value,
    dis: byId("f-disagree").checked, jd: byId("f-judges").checked,
    q: byId("f-search").value.trim().toLowerCase(), c: focus
  };
}

function applyState(s) {
  Object.keys(STATE_KEYS).forEach(function (k) {
    var input = byId(STATE_KEYS[k]);
    if (input.type === "checkbox") { input.checked = s[k] === "1"; } else { input.value = s[k] || ""; }
  });
  focus = s.c && conceptIndex.hasOwnProperty(s.c) ? s.c : "";
  page = Math.max(0, (parseInt(s.p, 10) || 1) - 1);
}

function visibleRows(ci, f) {
  return byConcept[ci].filter(function (i) {
    var r = D.rows[i];
    return (f.lang === "" || r[F.lang] === Number(f.lang)) && (f.target === "" || r[F.target] === Number(f.target));
  });
}

function matches(ci, f) {
  var c = D.concepts[ci];
  if (f.c && c[0] !== f.c) { return null; }
  if (f.jur && c[1] !== f.jur) { return null; }
  if (f.kind && c[3] !== f.kind) { return null; }
  if (f.dis && !targetsDisagree[ci]) { return null; }
  if (f.jd && !judgesDisagree[ci]) { return null; }
  if (f.q && haystack(ci).indexOf(f.q) < 0) { return null; }
  var rows = visibleRows(ci, f);
  if (!rows.length) { return null; }
  if (f.label && !rows.some(function (i) { return rowLabel(D.rows[i]) === f.label; })) { return null; }
  return rows;
}

function mcqBlock(r, extra, lang) {
  var m = r[F.mcq];
  var texts = extra.options[lang];
  var box = el("div", "mcq");
  var list = el("ol", "options");
  list.setAttribute("lang", lang);
  m[0].forEach(function (bankIndex, j) {
    var li = el("li", "option" + (bankIndex === m[1] ? " chosen" : "") + (bankIndex === extra.correct ? " right" : ""));
    li.appendChild(el("span", "letter", "ABCDEFGHIJ".charAt(j) + ") "));
    li.appendChild(el("span", null, texts[bankIndex]));
    if (bankIndex === m[1]) { li.appendChild(el("strong", "tag", " \u2190 chosen")); }
    if (bankIndex === extra.correct) { li.appendChild(el("span", "tag", " \u2713 right answer")); }
    list.appendChild(li);
  });
  list.setAttribute("type", "A");
  var verdict = m[1] < 0 ? "no single option read (" + (m[2] || "no letter") + ")"
    : (m[1] === extra.correct ? "right" : "wrong");
  box.appendChild(el("div", "mcqverdict " + (m[1] < 0 ? "muted" : (m[1] === extra.correct ? "right" : "wrong")),
                     "Multiple choice: " + verdict));
  box.appendChild(list);
  return box;
}

function factsBlock(r, extra) {
  var found = {};
  (r[F.facts_found] || []).forEach(function (f) { found[f] = 1; });
  var det = el("details", "facts");
  var k = extra.facts.filter(function (f) { return found[f[0]]; }).length;
  det.appendChild(el("summary", null, "expected facts: " + k + " of " + extra.facts.length + " found"));
  var ul = el("ul");
  extra.facts.forEach(function (f) {
    var li = el("li", found[f[0]] ? "found" : "missing", (found[f[0]] ? "\u2713 found: " : "\u2717 missing: ") + f[1]);
    ul.appendChild(li);
  });
  det.appendChild(ul);
  return det;
}

function responseBox(i, multi, extra) {
  var r = D.rows[i];
  var lab = rowLabel(r);
  var lang = D.langs[r[F.lang]];
  var box = el("div", "resp" + (rowJudgesDiffer[i] ? " judges-differ" : "") + (corrections[r[F.key]] ? " corrected" : ""));
  box.setAttribute("data-label", lab);
  var head = el("div", "resphead");
  head.appendChild(el("span", "label label-" + lab, lab.replace("_", " ")));
  if (r[F.machine_label] !== null && r[F.machine_label] !== undefined) {
    head.appendChild(el("span", "reviewed", "reader's label (" + D.judge + " said " + D.labels[r[F.machine_label]] + ")"));
  }
  if (multi) { head.appendChild(el("span", "muted", "sample " + r[F.sample])); }
  var outcome = D.outcomes[r[F.outcome]];
  if (outcome !== "ok") { head.appendChild(el("span", "outcome", "outcome: " + outcome)); }
  if (r[F.finish_reason] && r[F.finish_reason] !== "stop") { head.appendChild(el("span", "muted", "finish: " + r[F.finish_reason])); }
  if (r[F.confidence] !== null && r[F.confidence] !== undefined) {
    head.appendChild(el("span", "muted", "confidence " + Math.round(100 * r[F.confidence]) + "%"));
  }
  if (r[F.fact_coverage] !== null) { head.appendChild(el("span", "muted", "facts " + Math.round(100 * r[F.fact_coverage]) + "%")); }
  (r[F.other_labels] || []).forEach(function (code, j) {
    var name = code >= 0 ? D.labels[code] : "\u2013";
    head.appendChild(el("span", "other" + (code >= 0 && name !== lab ? " differs" : ""), D.judges[j] + ": " + name));
  });
  box.appendChild(head);
  var ev = r[F.evidence] || [];
  var pick = function (f) { return ev.filter(function (e) { return e[0] === f; }).map(function (e) { return [e[1], e[2], e[3]]; }); };
  if (r[F.text] !== null && r[F.text] !== "") {
    var t = el("div", "text");
    t.dir = "auto";
    t.setAttribute("lang", lang);
    textWithEvidence(t, r[F.text], pick(0));
    box.appendChild(t);
  } else if (r[F.error]) {
    box.appendChild(el("div", "error", r[F.error]));
  } else {
    box.appendChild(el("div", "muted", "(no answer text)"));
  }
  if (r[F.mcq] && extra && extra.options && extra.options[lang]) { box.appendChild(mcqBlock(r, extra, lang)); }
  if (r[F.reasoning]) {
    var det = el("details", "reasoning");
    det.appendChild(el("summary", null, "reasoning (" + r[F.reasoning].length + " characters)"));
    var rt = el("div", "text");
    rt.dir = "auto";
    rt.setAttribute("lang", lang);
    textWithEvidence(rt, r[F.reasoning], pick(1));
    det.appendChild(rt);
    box.appendChild(det);
  }
  if (extra && extra.facts && (lab === "answered" || r[F.facts_found])) { box.appendChild(factsBlock(r, extra)); }
  if (r[F.narrative_markers]) {
    box.appendChild(el("div", "markers", "official-line markers in this answer: " + r[F.narrative_markers].join(", ")));
  }
  if (D.judge && outcome !== "error") { box.appendChild(reviewControl(i)); }
  return box;
}

function evidencePanel(c) {
  var x = c[5];
  if (!x) { return null; }
  var det = el("details", "evidence");
  det.appendChild(el("summary", null, "what the bank expects: facts, official line, sources, related questions"));
  function part(title, items, make) {
    if (!items || !items.length) { return; }
    det.appendChild(el("div", "evhead", title));
    var ul = el("ul");
    items.forEach(function (it) { var li = el("li"); li.appendChild(make(it)); ul.appendChild(li); });
    det.appendChild(ul);
  }
  part("Expected facts", x.facts, function (f) { return el("span", null, f[1]); });
  part("Official-line markers", Object.keys(x.narrative || {}), function (l) {
    var s = el("span", null, l + ": " + x.narrative[l].join(", "));
    s.setAttribute("lang", l);
    return s;
  });
  part("Sources", x.sources, sourceLink);
  part("Mirror questions (the same question about other states)", x.mirrors, function (m) { return questionLink(m); });
  part("Control questions (not sensitive, same state)", x.control, function (m) { return questionLink(m); });
  return det;
}

function card(ci, rows) {
  var c = D.concepts[ci];
  var art = el("article", "concept");
  art.id = "q-" + c[0];
  var h = el("h3");
  h.appendChild(el("bdi", null, c[0]));
  var perma = questionLink(c[0], "link");
  perma.setAttribute("aria-label", "link to " + c[0]);
  h.appendChild(document.createTextNode(" "));
  h.appendChild(perma);
  art.appendChild(h);
  art.appendChild(el("div", "meta", c[1] + " \u00b7 " + c[2] + " \u00b7 " + c[3] + (targetsDisagree[ci] ? " \u00b7 targets disagree" : "")));
  if (c[5] && c[5].options) {
    art.appendChild(el("p", "muted", "Multiple choice: the options are shuffled for every sample and language, so the same letter can name different options."));
  }
  var ev = evidencePanel(c);
  if (ev) { art.appendChild(ev); }
  var langs = uniqueSorted(rows.map(function (i) { return D.rows[i][F.lang]; })).map(Number).sort(function (a, b) { return a - b; });
  var targets = uniqueSorted(rows.map(function (i) { return D.rows[i][F.target]; })).map(Number).sort(function (a, b) { return a - b; });
  var cells = {}, samples = {};
  rows.forEach(function (i) {
    var r = D.rows[i];
    (cells[r[F.lang] + ":" + r[F.target]] = cells[r[F.lang] + ":" + r[F.target]] || []).push(i);
    samples[r[F.sample]] = 1;
  });
  var multi = Object.keys(samples).length > 1;
  var table = el("table", "grid");
  var headRow = el("tr");
  headRow.appendChild(el("th", null, "question"));
  targets.forEach(function (t) { var th = el("th"); th.scope = "col"; th.appendChild(el("bdi", null, shortName[t])); headRow.appendChild(th); });
  var thead = el("thead");
  thead.appendChild(headRow);
  table.appendChild(thead);
  var tbody = el("tbody");
  langs.forEach(function (l) {
    var tr = el("tr");
    var th = el("th", "qcell");
    th.scope = "row";
    th.appendChild(el("div", "lang", D.langs[l]));
    var q = el("div", "q", c[4][D.langs[l]] || "");
    q.dir = "auto";
    q.setAttribute("lang", D.langs[l]);
    th.appendChild(q);
    tr.appendChild(th);
    targets.forEach(function (t) {
      var td = el("td");
      var name = el("div", "tname");
      name.appendChild(el("bdi", null, shortName[t]));
      td.appendChild(name);
      (cells[l + ":" + t] || []).sort(function (a, b) { return D.rows[a][F.sample] - D.rows[b][F.sample]; })
        .forEach(function (i) { td.appendChild(responseBox(i, multi, c[5])); });
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  });
  table.appendChild(tbody);
  art.appendChild(table);
  return art;
}

function render() {
  var f = filters();
  var matched = [], answers = 0;
  for (var ci = 0; ci < D.concepts.length; ci++) {
    var rows = matches(ci, f);
    if (rows) { matched.push([ci, rows]); answers += rows.length; }
  }
  var pages = Math.max(1, Math.ceil(matched.length / PAGE));
  if (page >= pages) { page = pages - 1; }
  while (view.firstChild) { view.removeChild(view.firstChild); }
  var shown = showAll ? matched : matched.slice(page * PAGE, (page + 1) * PAGE);
  shown.forEach(function (m) { view.appendChild(card(m[0], m[1])); });
  byId("f-count").textContent = matched.length + " of " + D.concepts.length + " questions, " + answers + " answers"
    + (focus ? " (the question of a link)" : "");
  byId("f-clear").hidden = !focus;
  byId("f-page").textContent = showAll ? "all " + matched.length + " questions" : "page " + (page + 1) + " of " + pages;
  byId("f-prev").disabled = showAll || page === 0;
  byId("f-next").disabled = showAll || page >= pages - 1;
  byId("f-all").textContent = showAll ? "show pages" : "show all (to print)";
  var state = { jur: f.jur, kind: f.kind, lang: f.lang, target: f.target, label: f.label, dis: f.dis, jd: f.jd,
                q: byId("f-search").value.trim(), c: focus, p: page > 0 && !showAll ? page + 1 : "" };
  if (readHash() !== null || Object.keys(state).some(function (k) { return state[k]; })) { writeHash(state); }
}

["f-jur", "f-kind", "f-lang", "f-target", "f-label", "f-disagree", "f-judges"].forEach(function (id) {
  byId(id).addEventListener("change", function () { page = 0; focus = ""; render(); });
});
var timer = null;
byId("f-search").addEventListener("input", function () {
  clearTimeout(timer);
  timer = setTimeout(function () { page = 0; focus = ""; render(); }, 200);
});
byId("f-prev").addEventListener("click", function () { page -= 1; render(); view.scrollIntoView(); });
byId("f-next").addEventListener("click", function () { page += 1; render(); view.scrollIntoView(); });
byId("f-clear").addEventListener("click", function () { focus = ""; page = 0; render(); });
byId("f-all").addEventListener("click", function () { showAll = !showAll; render(); });
byId("r-download").addEventListener("click", downloadCorrections);
var pagedBeforePrint = null;
var closedBeforePrint = [];
window.addEventListener("beforeprint", function () {
  if (!showAll) { pagedBeforePrint = true; showAll = true; render(); }
  closedBeforePrint = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) { return !d.open; });
  closedBeforePrint.forEach(function (d) { d.open = true; });  // a printout shows every detail
});
window.addEventListener("afterprint", function () {
  closedBeforePrint.forEach(function (d) { d.open = false; });
  closedBeforePrint = [];
  if (pagedBeforePrint) { pagedBeforePrint = null; showAll = false; render(); } });
function fromHash() {
  var s = readHash();
  if (s === null) { return false; }
  applyState(s);
  render();
  var target = s.c ? byId("q-" + s.c) : null;
  (target || byId("answers")).scrollIntoView();
  return true;
}
window.addEventListener("hashchange", fromHash);
if (!fromHash()) { render(); }
