/* glasnost report, part 2: a reader marks a verdict wrong and downloads the corrections (JSON Lines, made
   in the page as a Blob: nothing leaves the machine). `glasnost judge import-review FILE` stores them as
   verdicts of the judge human@1, which then take precedence over the judge in every report. */
var corrections = {};  // response key -> the correction's JSON object
var unsaved = false;  // corrections changed since the last download: leaving the page asks first
window.addEventListener("beforeunload", function (e) {
  if (unsaved) { e.preventDefault(); e.returnValue = ""; }
});

function reviewControl(i) {
  var r = D.rows[i];
  var key = r[F.key];
  var wrap = el("label", "review");
  wrap.appendChild(el("span", "muted", "review: "));
  var sel = document.createElement("select");
  sel.setAttribute("aria-label", "The right label for this answer (review of the verdict)");
  var keep = document.createElement("option");
  keep.value = "";
  keep.textContent = "verdict is right";
  sel.appendChild(keep);
  REVIEW_LABELS.forEach(function (lab) {
    var o = document.createElement("option");
    o.value = lab;
    o.textContent = "should be " + lab.replace("_", " ");
    sel.appendChild(o);
  });
  if (corrections[key]) { sel.value = corrections[key].label; }
  sel.addEventListener("change", function () {
    if (sel.value === "") {
      delete corrections[key];
    } else {
      var c = D.concepts[r[F.concept]];
      corrections[key] = {
        glasnost_review: 1, response_key: key, label: sel.value, judge: D.judge, judge_label: rowLabel(r),
        concept: c[0], lang: D.langs[r[F.lang]], target: D.targets[r[F.target]], sample: r[F.sample],
        reviewed_at: new Date().toISOString()
      };
    }
    unsaved = true;
    wrap.parentNode.classList.toggle("corrected", !!corrections[key]);
    updateReviewBar();
  });
  wrap.appendChild(sel);
  return wrap;
}

function updateReviewBar() {
  var n = Object.keys(corrections).length;
  byId("reviewbar").hidden = n === 0;
  byId("r-count").textContent = n + (n === 1 ? " correction" : " corrections") + " marked";
}

function downloadCorrections() {
  var lines = Object.keys(corrections).sort().map(function (k) { return JSON.stringify(corrections[k]); });
  var blob = new Blob([lines.join("\n") + "\n"], { type: "application/x-ndjson" });
  var url = URL.createObjectURL(blob);
  var a = document.createElement("a");
  a.href = url;
  a.download = "glasnost-review.jsonl";
  document.body.appendChild(a);
  a.click();
  document.body.removeChild(a);
  setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  unsaved = false;
}
