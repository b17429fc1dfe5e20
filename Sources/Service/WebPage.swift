/// The page served at `/`: a search box over the store and a form comparing two inputs, in
/// one self-contained HTML file (no external scripts, styles or fonts, so it works offline).
///
/// Inputs starting with `[` are sent as arrays of numbers (vector models), anything else as
/// text. When `/v1/models` lists example pairs (the demo model's signatures), one button per
/// pair fills the compare form. With `?selftest=1` the page compares every example pair (or a
/// made-up pair) and searches with the first input, and writes the outcome into `#selftest`
/// (`data-status="ok"` or `"failed"`): the headless-browser check reads it from the dumped DOM.
enum WebPage {
    static let contentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:"

    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Siamese</title>
<style>
 body { font: 15px/1.4 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
 h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
 input[type=text] { width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }
 button { margin-top: .5rem; padding: .3rem 1rem; font: inherit; }
 .out { margin-top: .7rem; white-space: pre-wrap; } .err { color: #a00; }
 .same { color: #070; font-weight: bold; } .diff { color: #a00; font-weight: bold; }
 table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .2rem .4rem; border-bottom: 1px solid #ddd; }
 #model { color: #555; font-size: .9rem; } #examples button { margin-right: .4rem; font-size: .85rem; }
</style>
</head>
<body>
<h1>Siamese</h1>
<div id="model">loading model…</div>

<h2>Search the store</h2>
<form id="search-form">
 <input type="text" id="search-query" placeholder="text, or [numbers] for a vector model" autocomplete="off">
 <div style="margin-top:.4rem">
  <label>k <input type="number" id="search-k" value="10" min="1" max="1000" style="width:5rem"></label>
  <label>filter <input type="text" id="search-filter" placeholder="lang=en, section=utils  or  {&quot;year&quot;: 2024}" autocomplete="off" style="width:60%"></label>
 </div>
 <button type="submit">Search</button>
</form>
<div id="search-result" class="out"></div>

<h2>Compare two inputs</h2>
<form id="compare-form">
 <input type="text" id="compare-a" placeholder="first input" autocomplete="off">
 <input type="text" id="compare-b" placeholder="second input" autocomplete="off" style="margin-top:.4rem">
 <button type="submit">Compare</button>
</form>
<div id="examples"></div>
<div id="compare-result" class="out"></div>
<div id="selftest" data-status="idle"></div>

<script>
"use strict";
const $ = (id) => document.getElementById(id);
function parseInput(s) {
  s = s.trim();
  if (s.startsWith("[")) { try { return JSON.parse(s); } catch (e) { return s; } }
  return s;
}
async function call(path, body) {
  const r = await fetch(path, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const j = await r.json();
  if (!r.ok) throw new Error((j.error && (j.error.code + ": " + j.error.message)) || ("HTTP " + r.status));
  return j;
}
function text(el, s, cls) { el.textContent = s; el.className = "out" + (cls ? " " + cls : ""); }
let model = null;
async function loadModel() {
  const j = await call("/v1/models");
  model = j.models[0];
  const cal = model.calibration ? ("threshold " + model.calibration.threshold.toFixed(4) + " (" + model.calibration.rule + ")") : "not calibrated";
  text($("model"), "model " + model.name + " · " + model.kind + (model.input_dimension ? " (" + model.input_dimension + " numbers in)" : "") + " · " + model.dimension + "-d · " + model.comparison + " · " + cal + " · store: " + j.store.items + " items");
  const box = $("examples");
  box.textContent = "";
  for (const ex of model.examples || []) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = "try: " + ex.name.replace(/_/g, " ") + (ex.same ? " (same)" : " (different)");
    b.addEventListener("click", () => { fillExample(ex); compare().catch(() => {}); });
    box.appendChild(b);
  }
}
function fillExample(ex) {
  $("compare-a").value = typeof ex.a === "string" ? ex.a : JSON.stringify(ex.a);
  $("compare-b").value = typeof ex.b === "string" ? ex.b : JSON.stringify(ex.b);
}
// A filter typed as KEY=VALUE pairs or as a JSON object (with $in, $gte, … operators).
function parseFilter(s) {
  s = s.trim();
  if (s === "") return undefined;
  if (s.startsWith("{")) return JSON.parse(s);
  const f = {};
  for (const part of s.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error("filter: '" + part.trim() + "' is not KEY=VALUE");
    const v = part.slice(eq + 1).trim();
    // Sent as text: the store compares a text value with a stored number or boolean by its
    // text form, so year=2021 finds 2021 and "2021" alike (a JSON object gives typed filters).
    f[part.slice(0, eq).trim()] = v;
  }
  return f;
}
// Whether a hit passes the model's calibrated threshold: search scores are cosines, so only a
// calibrated cosine model (higher is same) can say.
function decide(score) {
  const c = model && model.calibration;
  if (!c || model.comparison !== "cosine" || c.score_direction !== "higher_is_same") return "";
  return score >= c.threshold ? "same" : "different";
}
async function search() {
  const out = $("search-result");
  text(out, "searching…");
  try {
    const body = { query: parseInput($("search-query").value), k: Number($("search-k").value) || 10 };
    const filter = parseFilter($("search-filter").value);
    if (filter !== undefined) body.filter = filter;
    const j = await call("/v1/search", body);
    out.textContent = "";
    if (j.results.length === 0) { text(out, filter ? "no item matches the filter" : "no items in the store"); return j; }
    const t = document.createElement("table");
    t.innerHTML = "<tr><th>id</th><th>score</th><th>decision</th><th>text</th><th>metadata</th></tr>";
    for (const h of j.results) {
      const tr = t.insertRow();
      const d = decide(h.score);
      for (const v of [h.id, h.score.toFixed(4), d, h.text || "", h.metadata ? JSON.stringify(h.metadata) : ""]) tr.insertCell().textContent = v;
      if (d) tr.cells[2].className = d === "same" ? "same" : "diff";
    }
    out.appendChild(t);
    return j;
  } catch (e) { text(out, e.message, "err"); throw e; }
}
async function compare() {
  const out = $("compare-result");
  text(out, "comparing…");
  const body = { a: parseInput($("compare-a").value), b: parseInput($("compare-b").value) };
  try {
    let j;
    try { j = await call("/v1/verify", body); }
    catch (e) {
      if (!String(e.message).startsWith("not_calibrated")) throw e;
      j = await call("/v1/compare", body);
    }
    out.textContent = "";
    const s = document.createElement("div");
    s.id = "compare-score";
    s.textContent = "score " + j.score.toFixed(4) + (j.threshold !== undefined ? "  (threshold " + j.threshold.toFixed(4) + ", " + j.rule.kind + ")" : "");
    out.appendChild(s);
    if (j.same !== undefined) {
      const d = document.createElement("div");
      d.id = "compare-decision";
      d.className = j.same ? "same" : "diff";
      d.textContent = j.same ? "same" : "different";
      out.appendChild(d);
    }
    return j;
  } catch (e) { text(out, e.message, "err"); throw e; }
}
$("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); search().catch(() => {}); });
$("compare-form").addEventListener("submit", (ev) => { ev.preventDefault(); compare().catch(() => {}); });

async function selftest() {
  const st = $("selftest");
  st.dataset.status = "running";
  try {
    await loadModel();
    let examples = model.examples || [];
    if (examples.length === 0) {
      const a = model.kind === "text" ? "A man is eating food." : Array.from({ length: model.input_dimension }, (_, i) => (i % 3) - 1);
      const b = model.kind === "text" ? "A man is eating a meal." : a.map((x) => x + 0.01);
      examples = [{ name: "made_up", a: a, b: b }];
    }
    const parts = [];
    for (const ex of examples) {
      fillExample(ex);
      const c = await compare();
      parts.push(ex.name + ": score " + c.score.toFixed(4) + (c.same !== undefined ? " decided " + (c.same ? "same" : "different") : "") +
                 (ex.same !== undefined ? " (truth: " + (ex.same ? "same" : "different") + ")" : ""));
    }
    $("search-query").value = $("compare-a").value;
    $("search-k").value = "1";
    const one = await search();
    if (one.results.length > 1) throw new Error("k=1 returned " + one.results.length);
    $("search-filter").value = "selftest_no_such_key=x";
    const none = await search();
    if (none.results.length !== 0) throw new Error("a filter no item matches returned " + none.results.length);
    $("search-filter").value = "";
    $("search-k").value = "10";
    const s = await search();
    st.textContent = "selftest ok: " + parts.join("; ") + "; k=1 returned " + one.results.length + ", a filter nothing matches returned 0; search returned " + s.results.length;
    st.dataset.status = "ok";
  } catch (e) {
    st.textContent = "selftest failed: " + e.message;
    st.dataset.status = "failed";
  }
}
if (new URLSearchParams(location.search).has("selftest")) selftest();
else loadModel().catch((e) => text($("model"), e.message, "err"));
</script>
</body>
</html>
"""#
}
