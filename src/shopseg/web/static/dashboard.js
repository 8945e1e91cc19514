// shopseg dashboard: draws the Plotly figures and drives the builder, member paging, explain and the event feed.
// Talks to the public API under /api/v1 (segments: preview, save, delete, members, explain, export) and to the
// dashboard's own endpoints under /api/v1/dashboard (login, events, fields, customers, A/B tests); same origin, the
// login cookie carries the key.
"use strict";

const API = "/api/v1/dashboard", SEGMENTS = "/api/v1/segments";

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
}

async function call(method, url, body) {
  const opts = {method, headers: {"Accept": "application/json"}, credentials: "same-origin"};
  if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
  const resp = await fetch(url, opts);
  let data = {};
  try { data = await resp.json(); } catch (e) { data = {ok: false, error: resp.statusText}; }
  data.httpStatus = resp.status;
  return data;
}

function drawCharts() {
  document.querySelectorAll(".chart[data-figure]").forEach((el) => {
    const fig = JSON.parse(el.dataset.figure);  // data, layout and config: shopseg.reports.figures (shared with the report)
    Plotly.newPlot(el, fig.data, fig.layout, fig.config).then(() => el.classList.add("drawn"));
  });
}

// -- numbers people read: the rules of the pages' Jinja filters (shopseg.web.templating, shopseg.reports._format) --
// Money in the store's currency (<body data-currency>, Intl.NumberFormat): cents below 1,000, whole units above;
// shares as percentages with one decimal; times as "YYYY-MM-DD HH:MM UTC" (stored times are UTC).
const LOCALE = "en";

function missing(value) {
  return value === null || value === undefined || (typeof value === "number" && Number.isNaN(value));
}

function num(value, digits) {
  if (missing(value)) return "-";
  const places = digits ?? (Number.isInteger(value) ? 0 : 2);
  return Number(value).toLocaleString(LOCALE, {minimumFractionDigits: places, maximumFractionDigits: places});
}

function money(value) {
  if (missing(value)) return "-";
  const code = document.body.dataset.currency || "", places = Math.abs(value) < 1000 ? 2 : 0;
  const digits = {minimumFractionDigits: places, maximumFractionDigits: places};
  if (!code) return num(value, places);
  try {
    return new Intl.NumberFormat(LOCALE, {...digits, style: "currency", currency: code}).format(value);
  } catch (e) {  // not a well-formed ISO 4217 code: the number, then the code (as the report writes it)
    return `${num(value, places)} ${code}`;
  }
}

function pct(value, digits = 1) {
  return missing(value) ? "-" : (100 * value).toFixed(digits) + "%";
}

function points(value) {  // a difference of two shares, in percentage points
  return missing(value) ? "-" : (value >= 0 ? "+" : "") + (100 * value).toFixed(1) + " pts";
}

function when(value) {
  if (missing(value)) return "-";
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(String(value));
  if (!m) return String(value);
  if (m[2] === undefined) return m[1];  // a date
  if (!m[4]) return `${m[1]} ${m[2]}:${m[3]} UTC`;  // stored times are UTC without an offset
  const utc = new Date(value).toISOString();  // an offset: the same instant in UTC
  return `${utc.slice(0, 10)} ${utc.slice(11, 16)} UTC`;
}

function words(name) {
  return new Set((document.body.dataset[name] || "").split(" ").filter(Boolean));
}

function kindOf(column) {
  // what a column holds, by its name, as the report's _format.cell decides it (the body carries its lists)
  if (words("shareColumns").has(column) || column.endsWith("_share")) return "pct";
  if (words("moneyColumns").has(column) || (column.startsWith("revenue") && column !== "revenue_index")) return "money";
  if (column.endsWith("_at")) return "when";
  return "";
}

function cell(value, column, kind) {
  const formats = {money, pct, points, when};
  const format = formats[kind || kindOf(column)];
  if (format) return format(value);
  return typeof value === "number" ? num(value) : missing(value) ? "-" : String(value);
}

function td(value, column, kind) {
  return `<td class="${typeof value === "number" ? "num" : ""}">${esc(cell(value, column, kind))}</td>`;
}

function fillTable(table, rows, columns) {
  // rows as cells formatted after their column, or after the table's data-formats ({"column": "pct" | ...})
  const cols = columns || (rows.length ? Object.keys(rows[0]) : []);
  const kinds = table.dataset.formats ? JSON.parse(table.dataset.formats) : {};
  table.querySelector("thead").innerHTML = "<tr>" + cols.map((c) => `<th>${esc(c)}</th>`).join("") + "</tr>";
  table.querySelector("tbody").innerHTML = rows.map((r) => "<tr>" + cols.map((c) => td(r[c], c, kinds[c])).join("") + "</tr>").join("");
}

// -- login --------------------------------------------------------------------------------
function initLogin() {
  const form = document.getElementById("login");
  if (!form) return;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const res = await call("POST", `${API}/session`, {api_key: document.getElementById("api-key").value, next: form.dataset.next || "/"});
    const err = document.getElementById("login-error");
    if (res.ok) { window.location.assign(res.next || "/"); return; }  // the server's check of next: a path of this server
    err.textContent = res.error || "login failed"; err.hidden = false;
  });
}

// -- builder ------------------------------------------------------------------------------
function markRule(text, issues) {
  // the rule with each positioned issue's characters wrapped in <mark>, line by line
  const lines = text.split("\n");
  const marks = issues.filter((i) => i.line).map((i) => ({line: i.line, col: i.col, len: Math.max(1, i.length), msg: i.what}));
  return lines.map((line, n) => {
    const here = marks.filter((m) => m.line === n + 1).sort((a, b) => a.col - b.col);
    let out = "", pos = 0;
    for (const m of here) {
      const start = Math.max(pos, m.col - 1), end = Math.max(start + 1, m.col - 1 + m.len);
      const word = line.slice(start, end) || " ";
      out += esc(line.slice(pos, start)) + `<mark class="err" title="${esc(m.msg)}" data-line="${m.line}" data-col="${m.col}">${esc(word)}</mark>`;
      pos = end;
    }
    return out + esc(line.slice(pos));
  }).join("\n");
}

function showIssues(text, res) {
  const marked = document.getElementById("rule-marked"), list = document.getElementById("rule-errors");
  const issues = res.errors || [];
  marked.innerHTML = markRule(text, issues); marked.hidden = !issues.some((i) => i.line);
  list.innerHTML = (issues.length ? issues : [{what: res.error}]).map((i) =>
    `<li>${i.line ? `line ${i.line}, col ${i.col}: ` : ""}${esc(i.what || i.message)}</li>`).join("");
  list.hidden = false;
}

function clearIssues() {
  for (const id of ["rule-marked", "rule-errors", "rule-warnings"]) { const el = document.getElementById(id); el.hidden = true; el.innerHTML = ""; }
}

function insertAtCursor(area, text) {
  // insert at the cursor (or replace the selection), with a space before it when it would touch a word
  const start = area.selectionStart ?? area.value.length, end = area.selectionEnd ?? start;
  const before = area.value.slice(0, start), after = area.value.slice(end);
  const pad = before && !/[\s(]$/.test(before) && !/^\s/.test(text) ? " " : "";
  area.value = before + pad + text + after;
  const pos = (before + pad + text).length;
  area.focus(); area.setSelectionRange(pos, pos);
  area.dispatchEvent(new Event("input"));
}

function quoted(value) {
  return "'" + String(value).replace(/\\/g, "\\\\").replace(/'/g, "\\'") + "'";
}

function debounce(fn, ms) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function initFieldList(rule) {
  const search = document.getElementById("field-search");
  if (!search) return;
  const rows = Array.from(document.querySelectorAll("#field-list tr.field"));
  search.addEventListener("input", () => {
    const terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    rows.forEach((tr) => { tr.hidden = !terms.every((t) => tr.dataset.search.includes(t)); });
    document.querySelectorAll("#field-list details.field-group").forEach((d) => {
      const any = Array.from(d.querySelectorAll("tr.field")).some((tr) => !tr.hidden);
      d.hidden = !any; if (terms.length && any) d.open = true;
    });
    document.getElementById("field-none").hidden = rows.some((tr) => !tr.hidden);
  });
  const picker = document.getElementById("value-picker");
  document.getElementById("field-list").addEventListener("click", async (ev) => {
    const ins = ev.target.closest(".field-insert");
    if (ins) { insertAtCursor(rule, ins.dataset.insert); return; }
    const btn = ev.target.closest(".value-btn");
    if (btn) {
      const field = btn.dataset.field;
      const res = await call("GET", `${API}/fields/${encodeURIComponent(field)}/values`);
      document.getElementById("picker-field").textContent = field;
      const note = document.getElementById("picker-note"), box = document.getElementById("picker-values");
      if (!res.values) { note.textContent = res.error; note.className = "error"; box.innerHTML = ""; picker.hidden = false; return; }
      note.className = "note";
      note.textContent = res.values.length ? `Most common first${res.more ? "; more values exist, type the rest" : ""}. Click one to insert it.` : "No values yet.";
      box.innerHTML = res.values.map((v) => `<button type="button" class="chip value-pick" data-field="${esc(field)}" data-value="${esc(v.value)}">${esc(v.value)} <span class="note">${v.customers.toLocaleString("en")}</span></button>`).join("");
      picker.hidden = false;
      return;
    }
    const pick = ev.target.closest(".value-pick");
    if (pick) {
      // after an operator (=, IN (, a comma, CONTAINS) only the value is missing; otherwise the whole comparison
      const before = rule.value.slice(0, rule.selectionStart ?? rule.value.length).trimEnd();
      const needsField = !/(=|<>|<|>|\(|,|\bcontains|\bin)$/i.test(before);
      insertAtCursor(rule, (needsField ? `${pick.dataset.field} = ` : "") + quoted(pick.dataset.value));
    }
  });
  document.getElementById("picker-close").addEventListener("click", () => { picker.hidden = true; });
}

function initBuilder() {
  const rule = document.getElementById("rule");
  if (!rule) return;
  let seq = 0;
  const live = document.getElementById("live-count");
  const preview = async () => {
    const text = rule.value, mine = ++seq;
    if (!text.trim()) { clearIssues(); document.getElementById("preview").hidden = true; live.textContent = "The count updates as you type."; return; }
    live.textContent = "counting…";
    const res = await call("POST", `${SEGMENTS}/preview`, {rule: text, sample: 10, overlap: false});
    if (mine !== seq) return;  // a newer keystroke has its own request under way
    clearIssues();
    const box = document.getElementById("preview");
    if (res.httpStatus !== 200) {
      box.hidden = true; showIssues(text, res);
      const n = (res.errors || []).length || 1;
      live.textContent = `${n} problem${n === 1 ? "" : "s"} to fix`; live.dataset.state = "error";
      return;
    }
    document.getElementById("preview-size").textContent = num(res.size);
    document.getElementById("preview-customers").textContent = num(res.customers);
    document.getElementById("preview-share").textContent = pct(res.share);
    document.getElementById("preview-revenue-total").textContent = money(res.revenue);
    document.getElementById("preview-revenue").textContent = pct(res.revenue_share);
    document.getElementById("preview-rule").textContent = res.rule;
    fillTable(document.getElementById("preview-sample"), res.sample);
    if (res.warnings.length) { const w = document.getElementById("rule-warnings"); w.innerHTML = res.warnings.map((m) => `<li>${esc(m)}</li>`).join(""); w.hidden = false; }
    box.hidden = false;
    live.textContent = `${num(res.size)} customers match (${pct(res.share)})`; live.dataset.state = "ok";
  };
  document.getElementById("preview-btn").addEventListener("click", preview);
  rule.addEventListener("input", debounce(preview, 400));
  initFieldList(rule);
  if (rule.value.trim()) preview();  // prefilled (duplicate, edit, promote): count it at once
  document.getElementById("save-btn").addEventListener("click", async () => {
    const out = document.getElementById("save-result");
    const name = document.getElementById("seg-name").value.trim(), description = document.getElementById("seg-desc").value;
    const force = document.getElementById("seg-force").checked;
    if (!name) { out.textContent = "Give the segment a name in the Name box first."; out.className = "error"; return; }
    // one save path: the API's POST (a new segment) or PUT (a new version when 'new version' is ticked)
    const res = document.getElementById("seg-replace").checked
      ? await call("PUT", `${SEGMENTS}/${encodeURIComponent(name)}`, {rule: rule.value, description, force})
      : await call("POST", SEGMENTS, {name, rule: rule.value, description, force});
    clearIssues();
    if (res.httpStatus === 200 || res.httpStatus === 201) { window.location.assign(`/segments/${encodeURIComponent(res.name)}`); return; }
    if (res.errors && res.errors.some((i) => i.line)) showIssues(rule.value, res);
    out.textContent = res.error || "could not save"; out.className = "error";
  });
}

// -- segment detail -----------------------------------------------------------------------
function showMessage(el, text, isError) {
  el.textContent = text; el.className = isError ? "error" : "ok"; el.hidden = false;
}

function renderExplain(out, id, name, res) {
  if (!res.steps) { out.innerHTML = `<p class="error">${esc(res.error)}</p>`; return; }
  out.innerHTML = `<p id="explain-verdict"><b>${esc(id)}</b> is ${res.member ? "in" : "not in"} ${esc(name)}</p><ul class="explain">` +
    res.steps.map((s) => `<li data-depth="${Number(s.depth) || 0}" class="${s.held ? "held" : "failed"}">${s.held ? "✔" : "✘"} <code>${esc(s.condition)}</code>${s.value === null ? "" : ` <span class="note">(value: ${esc(s.value)})</span>`}</li>`).join("") + "</ul>";
  // indentation through the CSSOM: the page's content security policy refuses style attributes in markup
  out.querySelectorAll("li[data-depth]").forEach((li) => { li.style.marginLeft = `${Number(li.dataset.depth) * 1.5}em`; });
}

async function loadSegmentKpis(detail) {
  // the public preview route: size, shares and overlaps counted now, on the features' as-of date
  const res = await call("POST", `${SEGMENTS}/preview`, {rule: `segment('${detail.dataset.name}')`, sample: 0});
  const size = document.getElementById("kpi-size");
  if (res.size === undefined) { size.textContent = "-"; document.getElementById("kpi-share").textContent = res.error || ""; return; }
  size.textContent = num(res.size);
  document.getElementById("kpi-share").textContent = `${pct(res.share)} of ${num(res.customers)} customers`;
  document.getElementById("kpi-revenue-share").textContent = pct(res.revenue_share);
  document.getElementById("kpi-revenue").textContent = `${money(res.revenue)} of net revenue`;
  const others = Object.entries(res.overlap || {}).filter(([n, v]) => n !== detail.dataset.name && v > 0);
  document.getElementById("segment-overlap").textContent = others.length ? "Shares members with: " + others.map(([n, v]) => `${n} (${v.toLocaleString("en")})`).join(", ") : "";
}

async function exportSegment(btn, msg) {
  // fetched, not linked: a refused export (too small, no consent) is a message, not a downloaded error file
  btn.disabled = true;
  try {
    const resp = await fetch(btn.dataset.url, {credentials: "same-origin", headers: {"Accept": "text/csv, application/json"}});
    if (!resp.ok) {
      let err = resp.statusText;
      try { err = (await resp.json()).error || err; } catch (e) { /* not JSON: keep the status text */ }
      showMessage(msg, `Export refused: ${err}`, true);
      return;
    }
    const blob = await resp.blob();
    const name = (/filename="([^"]+)"/.exec(resp.headers.get("Content-Disposition") || "") || [])[1] || "export.csv";
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; document.body.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    const left = Number(resp.headers.get("X-Shopseg-Left-Out") || 0);
    showMessage(msg, `Exported ${Number(resp.headers.get("X-Shopseg-Exported")).toLocaleString("en")} of ${Number(resp.headers.get("X-Shopseg-Members")).toLocaleString("en")} members` +
      (left ? ` (${left.toLocaleString("en")} left out: no e-mail consent or no address).` : "."), false);
  } finally { btn.disabled = false; }
}

function initSegmentActions(name) {
  const msg = document.getElementById("action-msg");
  if (!msg) return;  // viewers have no actions
  const exportBtn = document.getElementById("export-btn");
  exportBtn.addEventListener("click", () => exportSegment(exportBtn, msg));
  const confirmBox = document.getElementById("delete-confirm");
  document.getElementById("delete-btn").addEventListener("click", () => { confirmBox.hidden = false; });
  document.getElementById("delete-no").addEventListener("click", () => { confirmBox.hidden = true; });
  document.getElementById("delete-yes").addEventListener("click", async () => {
    const res = await call("DELETE", `${SEGMENTS}/${encodeURIComponent(name)}`);
    confirmBox.hidden = true;
    if (res.httpStatus !== 200) { showMessage(msg, `Not deleted: ${res.error}`, true); return; }
    showMessage(msg, `Deleted ${name} (version ${res.version}); its history is kept.`, false);
    document.querySelectorAll("#segment-actions button, #segment-actions a").forEach((el) => { el.hidden = true; });
  });
}

function initSegment() {
  const detail = document.getElementById("segment-detail");
  if (!detail) return;
  const name = detail.dataset.name;
  let page = 1, pages = 1, sort = "customer_id", desc = false, q = "";
  const load = async () => {
    const params = new URLSearchParams({page, size: 25, sort, desc, q});
    const res = await call("GET", `${SEGMENTS}/${encodeURIComponent(name)}/customers?${params}`);
    if (res.rows === undefined) { document.getElementById("members-info").textContent = res.error; return; }
    pages = res.pages;
    const cols = ["customer_id", "orders", "revenue", "last_order_at", "country", "region"];
    document.querySelector("#members tbody").innerHTML = res.rows.map((r) => "<tr>" + cols.map((c) =>
      c === "customer_id" ? `<td><a href="/customers/${encodeURIComponent(r[c])}" class="customer-link">${esc(r[c])}</a> <button type="button" class="link explain-link" data-id="${esc(r[c])}">explain</button></td>`
        : td(r[c], c)).join("") + "</tr>").join("");
    const found = q ? `${res.total.toLocaleString("en")} of ${res.members.toLocaleString("en")} members match` : `${res.total.toLocaleString("en")} members`;
    document.getElementById("members-info").textContent = `page ${res.page} of ${res.pages} · ${found}`;
    document.getElementById("members-prev").disabled = page <= 1;
    document.getElementById("members-next").disabled = page >= pages;
    document.querySelectorAll("#members th[data-sort]").forEach((th) => {
      th.setAttribute("aria-sort", th.dataset.sort === sort ? (desc ? "descending" : "ascending") : "none");
    });
  };
  document.getElementById("members-prev").addEventListener("click", () => { page = Math.max(1, page - 1); load(); });
  document.getElementById("members-next").addEventListener("click", () => { page = Math.min(pages, page + 1); load(); });
  document.querySelectorAll("#members th[data-sort]").forEach((th) => th.addEventListener("click", () => {
    desc = th.dataset.sort === sort ? !desc : th.classList.contains("num");  // numbers start biggest first
    sort = th.dataset.sort; page = 1; load();
  }));
  const search = document.getElementById("members-search");
  search.addEventListener("input", debounce(() => { q = search.value.trim(); page = 1; load(); }, 300));
  const explain = async (id) => {
    const res = await call("GET", `${SEGMENTS}/${encodeURIComponent(name)}/explain/${encodeURIComponent(id)}`);
    renderExplain(document.getElementById("explain-out"), id, name, res);
  };
  document.getElementById("explain-btn").addEventListener("click", () => explain(document.getElementById("explain-id").value.trim()));
  document.getElementById("members").addEventListener("click", (ev) => {
    const a = ev.target.closest(".explain-link");
    if (a) { ev.preventDefault(); document.getElementById("explain-id").value = a.dataset.id; explain(a.dataset.id); }
  });
  initSegmentActions(name);
  loadSegmentKpis(detail);
  load();
}

// -- customer -----------------------------------------------------------------------------
function initCustomer() {
  const box = document.getElementById("customer");
  if (!box) return;
  const id = box.dataset.id;
  document.getElementById("nba-btn").addEventListener("click", async () => {
    const out = document.getElementById("nba-out");
    out.innerHTML = `<p class="note">working it out…</p>`;
    const res = await call("GET", `${API}/customers/${encodeURIComponent(id)}/next-action`);
    if (!res.ok) { out.innerHTML = `<p class="error">${esc(res.error)}</p>`; return; }
    out.innerHTML = `<p id="nba-action"><b>${esc(res.action_name)}</b>${res.action ? ": " + esc(res.action) : ""}</p>` +
      `<p class="note">${esc(res.reason)}${res.channel ? " · channel " + esc(res.channel) : ""}${res.products ? " · products " + esc(res.products) : ""} · ${esc(res.source)}</p>`;
  });
  const segs = document.getElementById("customer-segments");
  if (segs) segs.addEventListener("click", async (ev) => {
    const b = ev.target.closest(".explain-seg");
    if (!b) return;
    const res = await call("GET", `${SEGMENTS}/${encodeURIComponent(b.dataset.segment)}/explain/${encodeURIComponent(id)}`);
    renderExplain(document.getElementById("explain-out"), id, b.dataset.segment, res);
  });
}

// -- A/B tests ----------------------------------------------------------------------------
function initExperiments() {
  const create = document.getElementById("exp-create-btn");
  if (create) create.addEventListener("click", async () => {
    const v = (id) => document.getElementById(id).value.trim();
    const body = {name: v("exp-name"), segment: v("exp-segment"), split: v("exp-split"), holdout: Number(v("exp-holdout") || 0),
                  start: v("exp-start") || null, end: v("exp-end") || null, description: v("exp-desc")};
    const msg = document.getElementById("exp-msg");
    if (!body.name) { showMessage(msg, "Give the test a name in the Name box first.", true); return; }
    const res = await call("POST", `${API}/experiments`, body);
    if (!res.ok) { showMessage(msg, res.error, true); return; }
    window.location.assign(`/experiments?created=${encodeURIComponent(res.name)}`);
  });
  const list = document.getElementById("experiment-list");
  if (!list) return;
  const msg = document.getElementById("exp-list-msg");
  list.addEventListener("click", async (ev) => {
    const start = ev.target.closest(".exp-start"), analyse = ev.target.closest(".exp-analyse");
    if (start) {
      const res = await call("POST", `${API}/experiments/${encodeURIComponent(start.dataset.name)}/start`);
      if (!res.ok) { showMessage(msg, res.error, true); return; }
      const groups = Object.entries(res.groups).map(([g, n]) => `${g} ${n.toLocaleString("en")}`).join(", ");
      showMessage(msg, `Started ${res.name}: ${res.assigned.toLocaleString("en")} customers assigned (${groups}).`, false);
    }
    if (analyse) {
      const res = await call("GET", `${API}/experiments/${encodeURIComponent(analyse.dataset.name)}/analysis`);
      const box = document.getElementById("exp-analysis");
      if (!res.ok) { box.hidden = true; showMessage(msg, res.error, true); return; }
      document.getElementById("exp-analysis-title").textContent = `${res.name}: results against ${res.control}`;
      document.getElementById("exp-analysis-srm").textContent = res.srm.mismatch
        ? `Sample ratio MISMATCH (p ${res.srm.p_value.toFixed(4)}): do not trust these results.`
        : `Sample ratio check ok (p ${res.srm.p_value.toFixed(3)}) · intervals are 95% confidence intervals.`;
      fillTable(document.getElementById("exp-analysis-table"), res.rows);
      box.hidden = false;
    }
  });
}

// -- event feed ---------------------------------------------------------------------------
function eventRow(e) {
  return `<tr><td>${esc(when(e.occurred_at))}</td><td>${esc(e.type)}</td><td>${esc(e.customer_id || "-")}</td><td>${esc(e.product_id || "-")}</td><td>${esc(e.event_id)}</td></tr>`;
}

function initEvents() {
  const feed = document.getElementById("event-feed");
  if (!feed) return;
  const body = document.querySelector("#events tbody"), older = document.getElementById("events-older");
  older.addEventListener("click", async () => {
    const res = await call("GET", `${API}/events?limit=50&before=${encodeURIComponent(older.dataset.before)}`);
    body.insertAdjacentHTML("beforeend", res.rows.map(eventRow).join(""));
    older.dataset.before = res.next_before || older.dataset.before;
    older.disabled = !res.next_before;
  });
  if (feed.dataset.stream && window.EventSource) {
    const source = new EventSource(feed.dataset.stream, {withCredentials: true});
    const status = document.getElementById("stream-status"), list = document.querySelector("#notifications tbody");
    source.onopen = () => { status.textContent = "Connected: entries and exits appear here as they happen."; status.dataset.state = "open"; };
    const show = (msg) => {
      const n = JSON.parse(msg.data);
      list.insertAdjacentHTML("afterbegin", `<tr class="${esc(n.kind)}"><td>${esc(when(n.at))}</td><td>${esc(n.kind)}</td><td>${esc(n.segment)}</td><td>${esc(n.customer_id)}</td><td>${esc(n.event_id || "-")}</td></tr>`);
    };
    source.addEventListener("entry", show);
    source.addEventListener("exit", show);
  }
}

// -- forms that submit on change (no inline handlers: the content security policy allows only this file) --
function initAutosubmit() {
  document.querySelectorAll("select[data-autosubmit]").forEach((el) => el.addEventListener("change", () => el.form.submit()));
}

document.addEventListener("DOMContentLoaded", () => {
  drawCharts(); initLogin(); initBuilder(); initSegment(); initCustomer(); initExperiments(); initEvents(); initAutosubmit();
});
