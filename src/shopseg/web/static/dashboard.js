// shopseg dashboard: draws the Plotly figures and drives the builder, member paging, explain and the event feed.
// Talks to the public API under /api/v1 (segments: preview, save, members, explain, export) and to the
// dashboard's own endpoints under /api/v1/dashboard (login, events); same origin, the login cookie carries the key.
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
    const fig = JSON.parse(el.dataset.figure);
    Plotly.newPlot(el, fig.data, fig.layout, {displaylogo: false, responsive: true}).then(() => el.classList.add("drawn"));
  });
}

function fillTable(table, rows, columns) {
  const cols = columns || (rows.length ? Object.keys(rows[0]) : []);
  table.querySelector("thead").innerHTML = "<tr>" + cols.map((c) => `<th>${esc(c)}</th>`).join("") + "</tr>";
  table.querySelector("tbody").innerHTML = rows.map((r) => "<tr>" + cols.map((c) =>
    `<td class="${typeof r[c] === "number" ? "num" : ""}">${esc(typeof r[c] === "number" ? r[c].toLocaleString("en") : r[c])}</td>`).join("") + "</tr>").join("");
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

function initBuilder() {
  const rule = document.getElementById("rule");
  if (!rule) return;
  document.getElementById("preview-btn").addEventListener("click", async () => {
    const text = rule.value;
    const res = await call("POST", `${SEGMENTS}/preview`, {rule: text, sample: 10, overlap: false});
    clearIssues();
    const box = document.getElementById("preview");
    if (res.httpStatus !== 200) { box.hidden = true; showIssues(text, res); return; }
    document.getElementById("preview-size").textContent = res.size.toLocaleString("en");
    document.getElementById("preview-customers").textContent = res.customers.toLocaleString("en");
    document.getElementById("preview-share").textContent = (100 * res.share).toFixed(1) + "%";
    document.getElementById("preview-revenue").textContent = (100 * res.revenue_share).toFixed(1) + "%";
    document.getElementById("preview-rule").textContent = res.rule;
    fillTable(document.getElementById("preview-sample"), res.sample);
    if (res.warnings.length) { const w = document.getElementById("rule-warnings"); w.innerHTML = res.warnings.map((m) => `<li>${esc(m)}</li>`).join(""); w.hidden = false; }
    box.hidden = false;
  });
  document.getElementById("save-btn").addEventListener("click", async () => {
    const out = document.getElementById("save-result");
    const name = document.getElementById("seg-name").value.trim(), description = document.getElementById("seg-desc").value;
    // one save path: the API's POST (a new segment) or PUT (a new version when 'new version' is ticked)
    const res = document.getElementById("seg-replace").checked
      ? await call("PUT", `${SEGMENTS}/${encodeURIComponent(name)}`, {rule: rule.value, description})
      : await call("POST", SEGMENTS, {name, rule: rule.value, description});
    clearIssues();
    if (res.httpStatus === 200 || res.httpStatus === 201) { window.location.assign(`/segments/${encodeURIComponent(res.name)}`); return; }
    if (res.errors && res.errors.some((i) => i.line)) showIssues(rule.value, res);
    out.textContent = res.error || "could not save"; out.className = "error";
  });
}

// -- segment detail -----------------------------------------------------------------------
function initSegment() {
  const detail = document.getElementById("segment-detail");
  if (!detail) return;
  const name = detail.dataset.name;
  let page = 1, pages = 1;
  const load = async () => {
    const res = await call("GET", `${SEGMENTS}/${encodeURIComponent(name)}/customers?page=${page}&size=25`);
    if (res.rows === undefined) { document.getElementById("members-info").textContent = res.error; return; }
    pages = res.pages;
    const cols = ["customer_id", "orders", "revenue", "last_order_at", "country", "region"];
    document.querySelector("#members tbody").innerHTML = res.rows.map((r) => "<tr>" + cols.map((c) =>
      c === "customer_id" ? `<td><a href="#" class="explain-link" data-id="${esc(r[c])}">${esc(r[c])}</a></td>`
        : `<td class="${typeof r[c] === "number" ? "num" : ""}">${esc(typeof r[c] === "number" ? r[c].toLocaleString("en") : r[c])}</td>`).join("") + "</tr>").join("");
    document.getElementById("members-info").textContent = `page ${res.page} of ${res.pages} · ${res.total.toLocaleString("en")} members`;
    document.getElementById("members-prev").disabled = page <= 1;
    document.getElementById("members-next").disabled = page >= pages;
  };
  document.getElementById("members-prev").addEventListener("click", () => { page = Math.max(1, page - 1); load(); });
  document.getElementById("members-next").addEventListener("click", () => { page = Math.min(pages, page + 1); load(); });
  const explain = async (id) => {
    const res = await call("GET", `${SEGMENTS}/${encodeURIComponent(name)}/explain/${encodeURIComponent(id)}`);
    const out = document.getElementById("explain-out");
    if (!res.steps) { out.innerHTML = `<p class="error">${esc(res.error)}</p>`; return; }
    out.innerHTML = `<p id="explain-verdict"><b>${esc(id)}</b> is ${res.member ? "in" : "not in"} ${esc(name)}</p><ul class="explain">` +
      res.steps.map((s) => `<li data-depth="${Number(s.depth) || 0}" class="${s.held ? "held" : "failed"}">${s.held ? "✔" : "✘"} <code>${esc(s.condition)}</code>${s.value === null ? "" : ` <span class="note">(value: ${esc(s.value)})</span>`}</li>`).join("") + "</ul>";
    // indentation through the CSSOM: the page's content security policy refuses style attributes in markup
    out.querySelectorAll("li[data-depth]").forEach((li) => { li.style.marginLeft = `${Number(li.dataset.depth) * 1.5}em`; });
  };
  document.getElementById("explain-btn").addEventListener("click", () => explain(document.getElementById("explain-id").value.trim()));
  document.getElementById("members").addEventListener("click", (ev) => {
    const a = ev.target.closest(".explain-link");
    if (a) { ev.preventDefault(); document.getElementById("explain-id").value = a.dataset.id; explain(a.dataset.id); }
  });
  load();
}

// -- event feed ---------------------------------------------------------------------------
function eventRow(e) {
  return `<tr><td>${esc(e.occurred_at)}</td><td>${esc(e.type)}</td><td>${esc(e.customer_id || "-")}</td><td>${esc(e.product_id || "-")}</td><td>${esc(e.event_id)}</td></tr>`;
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
      list.insertAdjacentHTML("afterbegin", `<tr class="${esc(n.kind)}"><td>${esc(n.at)}</td><td>${esc(n.kind)}</td><td>${esc(n.segment)}</td><td>${esc(n.customer_id)}</td><td>${esc(n.event_id || "-")}</td></tr>`);
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
  drawCharts(); initLogin(); initBuilder(); initSegment(); initEvents(); initAutosubmit();
});
