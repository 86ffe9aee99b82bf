// distillwatch on-call page: alerts from /api/alerts (refreshed every 10 s), the selected alert's
// detail, and its drill-down from /api/account/ID or /api/cluster/ID. The DOM is built with
// createElement/textContent only: alert fields come from traffic and are never parsed as HTML.
"use strict";

const REFRESH_MS = 10000;
const SHOWN_ACCOUNTS = 10;
const state = { alerts: [], topic: "", selected: null, drill: 0 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  }
  return node;
}

function svgEl(tag, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmt(v) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en") : v.toFixed(Math.abs(v) < 10 ? 3 : 1);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (Array.isArray(v)) return v.map(fmt).join(", ");
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v)) return v.slice(0, 16).replace("T", " ");
  return String(v);
}

function sev(severity) { return el("span", { class: `sev ${severity}` }, severity); }
function subjectLink(kind, id) { return el("a", { href: `#${kind}=${encodeURIComponent(id)}`, class: "subject" }, id); }

function selectionFromUrl() {
  for (const source of [location.hash.slice(1), location.search.slice(1)]) {
    const params = new URLSearchParams(source);
    for (const kind of ["cluster", "account"]) {
      if (params.get(kind)) return { kind, id: params.get(kind) };
    }
  }
  return null;
}

function defaultSelection() {
  const paging = state.alerts.find((a) => a.severity === "critical" || a.severity === "error") || state.alerts[0];
  return paging ? { kind: paging.kind, id: paging.subject } : null;
}

// DW_WEB_TOKEN: the page is opened as /#token=…; the fragment never reaches a server or a log
const TOKEN_KEY = "distillwatch-token";
const openedWith = new URLSearchParams(location.hash.slice(1)).get("token");
if (openedWith) sessionStorage.setItem(TOKEN_KEY, openedWith);

async function getJson(path, options) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const response = await fetch(path, { cache: "no-store", ...(options || {}), headers });
  return { status: response.status, body: await response.json() };
}

// -- alerts list ---------------------------------------------------------------------------------

async function loadAlerts() {
  try {
    const { body } = await getJson("/api/alerts");
    if (body.error) throw new Error(body.error);
    state.alerts = body.alerts;
    state.topic = body.topic;
    document.getElementById("status").textContent =
      `${body.total} alerts on ${body.topic} · updated ${new Date().toLocaleTimeString("en-GB")} · refreshes every ${REFRESH_MS / 1000} s`;
  } catch (err) {
    document.getElementById("status").textContent = `cannot read alerts: ${err.message}`;
  }
  renderAlertList();
  if (!state.selected) select(selectionFromUrl() || defaultSelection());
}

function renderAlertList() {
  const body = document.querySelector("#alert-list tbody");
  body.replaceChildren(...state.alerts.map((a) => {
    const row = el("tr", { "data-kind": a.kind, "data-subject": a.subject },
      el("td", { class: "when" }, fmt(a.detected_at).slice(5)),
      el("td", {}, sev(a.severity)),
      el("td", {}, el("span", { class: "kind" }, a.kind), " ", el("span", { class: "subject" }, a.subject),
        el("div", { class: "reason" }, a.reasons.length ? a.reasons[0].summary : "")),
      el("td", { class: "num" }, a.accounts_total),
      el("td", { class: "num" }, `${fmt(a.score)} / ${fmt(a.threshold)}`));
    row.addEventListener("click", () => { location.hash = `${a.kind}=${encodeURIComponent(a.subject)}`; });
    if (state.selected && a.kind === state.selected.kind && a.subject === state.selected.id) row.classList.add("selected");
    return row;
  }));
  if (!state.alerts.length) body.replaceChildren(el("tr", {}, el("td", { colspan: 5 }, "no alerts yet")));
}

// -- alert detail ----------------------------------------------------------------------------------

function select(selection) {
  state.selected = selection;
  renderAlertList();
  if (selection) renderDetail(selection);
}

async function renderDetail({ kind, id }) {
  const token = ++state.drill;
  const section = document.getElementById("detail");
  const alert = state.alerts.find((a) => a.kind === kind && a.subject === id);
  const query = alert ? `?at=${encodeURIComponent(alert.detected_at)}` : "";
  section.replaceChildren(el("h2", {}, `${kind} `, el("span", { class: "subject" }, id)), el("p", { class: "hint" }, "loading drill-down…"));
  let drill;
  try {
    drill = await getJson(`/api/${kind}/${encodeURIComponent(id)}${query}`);
  } catch (err) {
    drill = { status: 0, body: { error: `the worker did not answer: ${err}` } };
  }
  if (token !== state.drill) return; // another selection came in meanwhile
  const shown = drill.body.alert || alert;
  const failed = drill.body.error ? el("p", { class: "error-box", id: "drill-error" }, drill.body.error) : null;
  const parts = failed ? { chart: failed, rest: [] } : (kind === "account" ? accountDrill : clusterDrill)(drill.body);
  section.replaceChildren(el("h2", {}, shown ? sev(shown.severity) : "", ` ${kind} `, el("span", { class: "subject" }, id)));
  if (shown) section.append(facts(shown));
  section.append(parts.chart);
  if (shown) section.append(...reasons(shown));
  section.append(...nextSteps(kind, shown), el("h3", {}, "Drill-down (saved queries)"), ...parts.rest);
}

function facts(a) {
  const shown = a.accounts.slice(0, SHOWN_ACCOUNTS);
  const more = a.accounts_total - shown.length;
  return el("dl", { class: "facts" },
      el("dt", {}, "score"), el("dd", {}, `${fmt(a.score)} (threshold ${fmt(a.threshold)})`),
      el("dt", {}, "detected"), el("dd", {}, `${fmt(a.detected_at)} UTC (event time)`),
      el("dt", {}, "evidence window"), el("dd", {}, `${fmt(a.window_start)} → ${fmt(a.window_end)}`),
      el("dt", {}, `accounts (${a.accounts_total})`),
      el("dd", { id: "accounts" }, shown.flatMap((acc, i) => [i ? ", " : "", subjectLink("account", acc)]),
        more > 0 ? ` … and ${more} more` : ""),
      el("dt", {}, "alert"), el("dd", {}, el("code", {}, a.alert_id), " dedup ", el("code", {}, a.dedup_key)),
      el("dt", {}, "detector"), el("dd", {}, a.detector));
}

function reasons(a) {
  const nodes = [
    el("h3", {}, "Why"),
    table(["reason", "value", "normal (baseline)"], a.reasons.map((r) => [r.summary, fmt(r.value), fmt(r.baseline)]), [1, 2]),
  ];
  if (a.links && a.links.length) {
    nodes.push(el("h3", {}, "What ties the accounts together"),
      table(["attribute", "value", "accounts"], a.links.map((l) =>
        [l.attribute, subjectLink("cluster", `${l.attribute}:${l.value}`), l.accounts]), [2]));
  }
  const evidence = Object.entries(a.evidence || {});
  nodes.push(el("h3", {}, "Evidence"),
    el("dl", { class: "facts" }, evidence.flatMap(([k, v]) => [el("dt", {}, k.replaceAll("_", " ")), el("dd", {}, fmt(v))])));
  return nodes;
}

const HINTS = {
  account: [
    "Minute by minute around the alert (account_timeline, the chart below): a steady machine-like rate, 429s, many IPs or prompts?",
    "Day by day before it (account_days): when did this start, and did it move routers, ASNs or IP prefixes?",
    "Clusters that include the account (below): a cluster alert means coordinated accounts — open it.",
  ],
  cluster: [
    "Who is in it and how much each does (cluster_members, below): open the top members' timelines.",
    "What else the members share (cluster_links, below): other payments, TLS fingerprints or templates lead to overlapping clusters.",
    "When it started and how fast it grows (cluster_growth, the chart below).",
  ],
};

function nextSteps(kind, alert) {
  const items = HINTS[kind].map((h) => el("li", {}, h));
  if (alert && (alert.severity === "warning" || alert.severity === "info")) {
    items.push(el("li", {}, `A ${alert.severity} does not page: watch whether it escalates (same dedup key).`));
  }
  for (const cmd of (alert && alert.next_steps) || []) items.push(el("li", {}, "In a shell: ", el("code", {}, cmd)));
  return [el("h3", {}, "What to check next"), el("ul", { class: "next" }, items)];
}

// -- drill-downs -----------------------------------------------------------------------------------

function accountDrill(d) {
  const timeline = d.queries.account_timeline;
  const linked = new Set();
  for (const c of d.clusters) {
    const a = state.alerts.find((x) => x.kind === "cluster" && x.subject === c.cluster_id);
    for (const acc of (a ? a.accounts : [])) if (acc !== d.subject) linked.add(acc);
  }
  const linkedList = [...linked].slice(0, SHOWN_ACCOUNTS);
  const figure = chart(timeline.map((r) => ({ label: r.minute, bar: r.requests, line: r.score, mark: r.alert_severity })),
    `requests per minute (bars) and score (line), ${timeline.length} active minutes around ${fmt(d.at)}; dashed: alert minutes`);
  return { chart: figure, rest: [
    el("h3", {}, `Clusters with this account (${d.clusters.length})`),
    d.clusters.length
      ? table(["cluster", "severity", "accounts", "latest alert"], d.clusters.map((c) =>
        [subjectLink("cluster", c.cluster_id), sev(c.severity), c.accounts_total, fmt(c.detected_at)]), [2])
      : el("p", { class: "hint" }, "no cluster alert implicates it"),
    el("h3", {}, `Linked accounts (${linked.size}, through those clusters)`),
    el("p", { id: "linked" }, linkedList.length ? linkedList.flatMap((acc, i) => [i ? ", " : "", subjectLink("account", acc)]) : "none",
      linked.size > linkedList.length ? ` … and ${linked.size - linkedList.length} more` : ""),
    el("h3", {}, "account_timeline"),
    rowsTable(timeline, ["minute", "requests", "output_tokens", "rate_limited", "distinct_ips", "score", "harvest_score",
      "router_id", "asn", "ip_prefix", "alert_severity"]),
    el("h3", {}, "account_days"),
    rowsTable(d.queries.account_days, ["day", "active_minutes", "requests", "output_tokens", "rate_limited", "peak_score",
      "routers", "asns", "ip_prefixes"]),
  ] };
}

function clusterDrill(d) {
  const q = d.queries;
  const alertHour = d.at.slice(0, 13);
  const figure = chart(q.cluster_growth.map((r) => ({ label: r.hour, bar: r.members_active, line: r.peak_score,
    mark: r.hour.slice(0, 13) === alertHour })), "active members per hour (bars) and peak score (line); dashed: the alert's hour");
  return { chart: figure, rest: [
    el("h3", {}, `cluster_members (${q.cluster_members.length}, latest membership snapshot)`),
    rowsTable(q.cluster_members, ["account_id", "first_seen", "last_seen", "requests", "output_tokens", "harvest_score"], "members"),
    el("h3", {}, "cluster_links: what else the members share"),
    rowsTable(q.cluster_links, ["attribute", "value", "members_sharing", "requests", "defines_cluster"], "links"),
    el("h3", {}, "cluster_growth"),
    rowsTable(q.cluster_growth, ["hour", "members_active", "members_total", "requests_day", "new_members_hour", "peak_score",
      "severity_at_peak"]),
  ] };
}

function rowsTable(rows, columns, id) {
  if (!rows.length) return el("p", { class: "hint" }, "no rows (nothing written to ClickHouse for this range yet)");
  const cells = rows.map((r) => columns.map((c) => {
    if (c === "account_id") return subjectLink("account", r[c]);
    if (c === "value" && r.attribute !== undefined) return subjectLink("cluster", `${r.attribute}:${r.value}`);
    return typeof r[c] === "string" && /^\d{4}-\d\d-\d\d$/.test(r[c]) ? r[c] : fmt(r[c]);
  }));
  const numeric = columns.map((c, i) => rows.every((r) => typeof r[c] === "number") ? i : -1).filter((i) => i >= 0);
  const t = table(columns.map((c) => c.replaceAll("_", " ")), cells, numeric);
  if (id) t.id = id;
  return el("div", { class: "scroll" }, t);
}

function table(head, rows, numericCols) {
  const num = new Set(numericCols || []);
  return el("table", {},
    el("thead", {}, el("tr", {}, head.map((h, i) => el("th", num.has(i) ? { class: "num" } : {}, h)))),
    el("tbody", {}, rows.map((r) => el("tr", {}, r.map((c, i) => el("td", num.has(i) ? { class: "num" } : {}, c))))));
}

// An inline SVG chart: bars on the left scale, a line on its own scale, dashed marks.
function chart(points, caption) {
  const W = 640, H = 180, L = 36, R = 36, T = 10, B = 22;
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": caption });
  if (!points.length) {
    svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no activity rows for this range"));
    return el("figure", {}, svg, el("figcaption", { class: "legend" }, caption));
  }
  const maxBar = Math.max(1, ...points.map((p) => p.bar || 0));
  const lines = points.map((p) => p.line || 0);
  const minLine = Math.min(...lines), maxLine = Math.max(...lines);
  const step = (W - L - R) / points.length;
  const y = (v) => T + (H - T - B) * (1 - v / maxBar);
  const yl = (v) => T + (H - T - B) * (1 - (maxLine > minLine ? (v - minLine) / (maxLine - minLine) : 0.5));
  points.forEach((p, i) => {
    const x = L + i * step;
    const bar = svgEl("rect", { class: "bar", x: x + step * 0.1, width: Math.max(1, step * 0.8), y: y(p.bar || 0),
      height: H - B - y(p.bar || 0) });
    bar.append(svgEl("title", {}, `${fmt(p.label)}: ${p.bar}`));
    svg.append(bar);
  });
  points.forEach((p, i) => {  // over the bars, or a full bar would hide its mark
    const x = L + (i + 0.5) * step;
    if (p.mark) svg.append(svgEl("line", { class: "mark", x1: x, x2: x, y1: T, y2: H - B }));
  });
  svg.append(svgEl("polyline", { class: "line", points: points.map((p, i) => `${L + (i + 0.5) * step},${yl(p.line || 0)}`).join(" ") }));
  svg.append(svgEl("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, fmt(maxBar)));
  svg.append(svgEl("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
  svg.append(svgEl("text", { x: W - R + 4, y: T + 8 }, fmt(maxLine)));
  svg.append(svgEl("text", { x: W - R + 4, y: H - B }, fmt(minLine)));
  for (const i of [0, Math.floor(points.length / 2), points.length - 1]) {
    svg.append(svgEl("text", { x: L + (i + 0.5) * step, y: H - 6, "text-anchor": "middle" }, fmt(points[i].label).slice(5)));
  }
  return el("figure", {}, svg, el("figcaption", { class: "legend" }, caption));
}

window.addEventListener("hashchange", () => select(selectionFromUrl() || defaultSelection()));
loadAlerts();
setInterval(loadAlerts, REFRESH_MS);
