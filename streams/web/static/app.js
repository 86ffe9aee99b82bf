// distillwatch on-call page: incidents from /api/incidents (alerts grouped by dedup key, people's
// acks and resolves folded in; refreshed every 10 s), the selected incident's detail and actions,
// and its drill-down from /api/account/ID or /api/cluster/ID. The DOM is built with
// createElement/textContent only: alert fields come from traffic and are never parsed as HTML.
"use strict";

const REFRESH_MS = 10000;
const SHOWN_ACCOUNTS = 10;
const state = { incidents: [], alerts: [], selected: null, drill: 0, all: false, search: "", runbook: "" };
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

// -- incidents list -------------------------------------------------------------------------------

async function loadIncidents() {
  const params = new URLSearchParams({ search: state.search });
  if (state.all) params.set("all", "1");
  try {
    const { body } = await getJson(`/api/incidents?${params}`);
    if (body.error) throw new Error(body.error);
    state.incidents = body.incidents;
    state.alerts = body.incidents.map((i) => i.alert);
    state.runbook = body.runbook_url;
    document.getElementById("status").textContent =
      `${body.incidents.length} of ${body.total} incidents on ${body.topic} · updated ${new Date().toLocaleTimeString("en-GB")}` +
      ` · refreshes every ${REFRESH_MS / 1000} s` + (body.actions_error ? ` · ${body.actions_error}` : "");
  } catch (err) {
    document.getElementById("status").textContent = `cannot read incidents: ${err.message}`;
  }
  renderIncidentList();
  if (!state.selected) select(selectionFromUrl() || defaultSelection());
}

function duration(from, to) {
  const minutes = Math.round((Date.parse(to) - Date.parse(from)) / 60000);
  if (minutes < 60) return `${minutes} min`;
  return minutes < 2880 ? `${(minutes / 60).toFixed(1)} h` : `${(minutes / 1440).toFixed(1)} d`;
}

function history(inc) {
  return el("details", { class: "history" }, el("summary", {}, `${inc.alert_count} alert${inc.alert_count > 1 ? "s" : ""}`),
    el("ol", {}, inc.history.map((h) => el("li", {}, fmt(h.detected_at).slice(5), " ",
      h.action === "resolve" ? el("b", {}, "resolved") : sev(h.severity), ` ${h.accounts_total} accounts`,
      h.accounts_added.length ? ` (+${h.accounts_added.length} joined)` : ""))));
}

function renderIncidentList() {
  const body = document.querySelector("#incident-list tbody");
  body.replaceChildren(...state.incidents.map((inc) => {
    const top = inc.alert.reasons.length ? inc.alert.reasons[0].summary : "";
    const row = el("tr", { "data-key": inc.dedup_key, class: `state-${inc.state}` },
      el("td", {}, sev(inc.severity), inc.state === "open" ? "" : el("div", { class: "state" }, inc.state)),
      el("td", {}, el("span", { class: "kind" }, inc.kind), " ", el("span", { class: "subject" }, inc.subject),
        el("div", { class: "reason" }, top), history(inc)),
      el("td", { class: "num" }, inc.members, inc.growth ? el("div", { class: "growth" }, `+${inc.growth}`) : ""),
      el("td", { class: "when" }, fmt(inc.opened_at).slice(5), el("div", { class: "reason" }, `open ${duration(inc.opened_at, inc.last_at)}`)));
    row.addEventListener("click", (e) => {
      if (e.target.closest("details")) return; // unfolding the history is not a selection
      location.hash = `incident=${encodeURIComponent(inc.dedup_key)}`;
    });
    if (state.selected && state.selected.key === inc.dedup_key) row.classList.add("selected");
    return row;
  }));
  if (!state.incidents.length) body.replaceChildren(el("tr", {}, el("td", { colspan: 4 }, "no open incident matches")));
}

// -- incident detail -------------------------------------------------------------------------------

function selectionFromUrl() {
  for (const source of [location.hash.slice(1), location.search.slice(1)]) {
    const params = new URLSearchParams(source);
    const key = params.get("incident");
    const inc = key && state.incidents.find((i) => i.dedup_key === key);
    if (inc) return { key, kind: inc.kind, id: inc.subject };
    for (const kind of ["cluster", "account"]) {
      if (params.get(kind)) return { kind, id: params.get(kind) };
    }
  }
  return null;
}

function defaultSelection() {
  const inc = state.incidents[0];
  return inc ? { key: inc.dedup_key, kind: inc.kind, id: inc.subject } : null;
}

function select(selection) {
  state.selected = selection;
  renderIncidentList();
  if (selection) renderDetail(selection);
}

async function renderDetail({ key, kind, id }) {
  const token = ++state.drill;
  const section = document.getElementById("detail");
  const inc = state.incidents.find((i) => key ? i.dedup_key === key : i.kind === kind && i.subject === id);
  const alert = inc ? inc.alert : null;
  section.replaceChildren(el("h2", {}, `${kind} `, el("span", { class: "subject" }, id)), el("p", { class: "hint" }, "loading drill-down…"));
  let drill = { status: 0, body: { error: "a campaign has no saved queries of its own: open one of its clusters (links below)" } };
  if (kind !== "campaign") {
    const query = alert ? `?at=${encodeURIComponent(alert.detected_at)}` : "";
    try {
      drill = await getJson(`/api/${kind}/${encodeURIComponent(id)}${query}`);
    } catch (err) {
      drill = { status: 0, body: { error: `the worker did not answer: ${err}` } };
    }
  }
  if (token !== state.drill) return; // another selection came in meanwhile
  const shown = alert || drill.body.alert;
  const failed = drill.body.error ? el("p", { class: "error-box", id: "drill-error" }, drill.body.error) : null;
  const parts = failed ? { chart: failed, rest: [] } : (kind === "account" ? accountDrill : clusterDrill)(drill.body, shown);
  section.replaceChildren(el("h2", {}, shown ? sev(shown.severity) : "", ` ${kind} `, el("span", { class: "subject" }, id),
    inc && inc.state !== "open" ? el("span", { class: "state", id: "incident-state" }, ` ${inc.state} by ${inc.by}${inc.note ? `: ${inc.note}` : ""}`) : ""));
  if (shown) section.append(facts(shown, inc));
  section.append(parts.chart);
  if (inc) section.append(...actionSection(inc));
  if (shown) section.append(...reasons(shown));
  section.append(...nextSteps(kind, shown), el("h3", {}, "Drill-down (saved queries)"), ...parts.rest);
}

function accountLinks(accounts) {
  const shown = accounts.slice(0, SHOWN_ACCOUNTS);
  return [shown.flatMap((acc, i) => [i ? ", " : "", subjectLink("account", acc)]),
    accounts.length > shown.length ? ` … and ${accounts.length - shown.length} more` : ""];
}

function facts(a, inc) {
  const accounts = inc ? inc.accounts : a.accounts;
  return el("dl", { class: "facts" },
      el("dt", {}, "score"), el("dd", {}, `${fmt(a.score)} (threshold ${fmt(a.threshold)})`),
      el("dt", {}, "detected"), el("dd", {}, `${fmt(a.detected_at)} UTC (event time)`),
      inc ? [el("dt", {}, "incident"), el("dd", {}, `opened ${fmt(inc.opened_at)}, ${inc.alert_count} alerts, ` +
        `${inc.members} accounts (+${inc.growth} since it opened)`)] : [],
      el("dt", {}, "evidence window"), el("dd", {}, `${fmt(a.window_start)} → ${fmt(a.window_end)}`),
      el("dt", {}, `accounts (${inc ? accounts.length : a.accounts_total})`), el("dd", { id: "accounts" }, ...accountLinks(accounts)),
      el("dt", {}, "alert"), el("dd", {}, el("code", {}, a.alert_id), " dedup ", el("code", {}, a.dedup_key)),
      el("dt", {}, "detector"), el("dd", {}, a.detector));
}

// -- actions ---------------------------------------------------------------------------------------

const WHO_KEY = "distillwatch-who";

async function post(path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const headers = { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const who = document.getElementById("who").value.trim();
  if (who) localStorage.setItem(WHO_KEY, who);
  const response = await fetch(path, { method: "POST", cache: "no-store", headers, body: JSON.stringify({ ...body, who }) });
  const answer = await response.json();
  document.getElementById("action-result").textContent = answer.error ? `failed: ${answer.error}` : `${answer.done} — shown here once the sink wrote it`;
  document.getElementById("action-result").className = answer.error ? "error-box" : "done";
}

// The subject a suppression names: an account, or the attribute and value of a cluster id ("payment:pm-1").
function suppressionSubject(inc) {
  if (inc.kind === "account") return ["account", inc.subject];
  const cut = inc.subject.indexOf(":");
  if (inc.kind === "cluster" && cut > 0) return [inc.subject.slice(0, cut), inc.subject.slice(cut + 1)];
  return ["account", inc.accounts[0] || ""];
}

function actionSection(inc) {
  const [attribute, value] = suppressionSubject(inc);
  const input = (attrs) => el("input", attrs);
  const runbook = state.runbook
    ? el("a", { href: state.runbook, id: "runbook", target: "_blank", rel: "noopener" }, "runbook")
    : el("span", { class: "hint" }, "set DW_RUNBOOK_URL to link your runbook here");
  const note = input({ id: "note", placeholder: "why (kept with who and when)", size: 32 });
  const buttons = [["ack", "Acknowledge"], ["resolve", "Resolve"]].map(([action, label]) => {
    const b = el("button", { type: "button", id: `do-${action}` }, label);
    b.addEventListener("click", () => post("/api/incident", { dedup_key: inc.dedup_key, action, note: note.value }));
    return b;
  });
  const suppress = el("button", { type: "button", id: "do-suppress" }, "Suppress");
  const sAttr = el("select", { id: "suppress-attribute" }, ["account", "org", "payment", "ip24", "router", "template"].map((a) =>
    el("option", a === attribute ? { value: a, selected: "" } : { value: a }, a)));
  const sValue = input({ id: "suppress-value", value, size: 24 });
  const sFor = input({ id: "suppress-for", value: "7d", size: 4 });
  suppress.addEventListener("click", () => post("/api/suppress",
    { attribute: sAttr.value, value: sValue.value, for: sFor.value, reason: note.value }));
  return [
    el("h3", {}, "Act"),
    el("ol", { class: "next" },
      el("li", {}, "Throttle: lower the rate limit of the accounts below while you look (it slows harvesting, it does not tip them off)."),
      el("li", {}, `Suspend the listed accounts (all ${inc.accounts.length}, including those that joined later) if the reasons hold up.`),
      el("li", {}, "Hand to trust & safety: the incident's dedup key, its members and the saved queries below are the evidence."),
      el("li", {}, "Procedure: ", runbook)),
    el("details", {}, el("summary", {}, `accounts to act on (${inc.accounts.length})`),
      el("pre", { id: "suspend-list" }, inc.accounts.join("\n"))),
    el("div", { class: "act" }, input({ id: "who", placeholder: "your name", size: 12, value: localStorage.getItem(WHO_KEY) || "" }),
      " ", note, " ", ...buttons),
    el("div", { class: "act" }, "or say it is fine: ", sAttr, " ", sValue, " for ", sFor, " ", suppress,
      el("span", { class: "hint" }, " (the note is the reason; pages again when it ends, in event time)")),
    el("p", { id: "action-result", role: "status" }),
  ];
}

// Reasons most unlike normal first: how many times (either way) the value is its baseline.
function distance(r) {
  if (typeof r.value !== "number" || typeof r.baseline !== "number") return 0;
  return Math.abs(Math.log((Math.abs(r.value) + 1e-9) / (Math.abs(r.baseline) + 1e-9)));
}

function timesNormal(r) {
  if (!distance(r)) return "—";
  return r.baseline === 0 ? "none is normal" : `${fmt(Math.abs(r.value / r.baseline))}×`;
}

function reasons(a) {
  const ordered = [...a.reasons].sort((x, y) => distance(y) - distance(x));
  const nodes = [
    el("h3", {}, "Why (furthest from normal first)"),
    table(["reason", "value", "normal (baseline)", "× normal"], ordered.map((r) => [r.summary, fmt(r.value), fmt(r.baseline),
      timesNormal(r)]), [1, 2, 3]),
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

function accountDrill(d, alert) {
  const timeline = d.queries.account_timeline;
  const linked = new Set();
  for (const c of d.clusters) {
    const a = state.alerts.find((x) => x.kind === "cluster" && x.subject === c.cluster_id);
    for (const acc of (a ? a.accounts : [])) if (acc !== d.subject) linked.add(acc);
  }
  const linkedList = [...linked].slice(0, SHOWN_ACCOUNTS);
  const figure = chart(timeline.map((r) => ({ label: r.minute, bar: r.requests, line: r.score, mark: r.alert_severity })),
    `requests per minute (bars) and score (line), ${timeline.length} active minutes around ${fmt(d.at)}; dashed: alert minutes, ` +
    "dotted: the alert's threshold", { bars: "requests / min", line: "score", x: "minute (UTC)", threshold: alert && alert.threshold });
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

function clusterDrill(d, alert) {
  const q = d.queries;
  const alertHour = d.at.slice(0, 13);
  const figure = chart(q.cluster_growth.map((r) => ({ label: r.hour, bar: r.members_active, line: r.peak_score,
    mark: r.hour.slice(0, 13) === alertHour })), "active members per hour (bars) and peak score (line); dashed: the alert's hour, " +
    "dotted: the alert's threshold", { bars: "members", line: "peak score", x: "hour (UTC)", threshold: alert && alert.threshold });
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

// An inline SVG chart: bars on the left scale, a line (and its threshold) on the right scale,
// dashed marks; units name both axes and the time axis.
function chart(points, caption, units) {
  const W = 640, H = 196, L = 48, R = 48, T = 22, B = 34;
  const svg = svgEl("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": caption });
  if (!points.length) {
    svg.append(svgEl("text", { x: W / 2, y: H / 2, "text-anchor": "middle" }, "no activity rows for this range"));
    return el("figure", {}, svg, el("figcaption", { class: "legend" }, caption));
  }
  const maxBar = Math.max(1, ...points.map((p) => p.bar || 0));
  const threshold = typeof units.threshold === "number" ? units.threshold : null;
  const lines = points.map((p) => p.line || 0).concat(threshold === null ? [] : [threshold]);
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
  if (threshold !== null) {
    svg.append(svgEl("line", { class: "threshold", x1: L, x2: W - R, y1: yl(threshold), y2: yl(threshold) }));
    svg.append(svgEl("text", { x: W - R - 4, y: yl(threshold) - 3, "text-anchor": "end", class: "threshold-label" },
      `threshold ${fmt(threshold)}`));
  }
  svg.append(svgEl("polyline", { class: "line", points: points.map((p, i) => `${L + (i + 0.5) * step},${yl(p.line || 0)}`).join(" ") }));
  svg.append(svgEl("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, fmt(maxBar)));
  svg.append(svgEl("text", { x: L - 4, y: H - B, "text-anchor": "end" }, "0"));
  svg.append(svgEl("text", { x: W - R + 4, y: T + 8 }, fmt(maxLine)));
  svg.append(svgEl("text", { x: W - R + 4, y: H - B }, fmt(minLine)));
  for (const i of [0, Math.floor(points.length / 2), points.length - 1]) {
    svg.append(svgEl("text", { x: L + (i + 0.5) * step, y: H - 20, "text-anchor": "middle" }, fmt(points[i].label).slice(5)));
  }
  svg.append(svgEl("text", { x: 4, y: 12, class: "unit" }, units.bars));
  svg.append(svgEl("text", { x: W - 4, y: 12, "text-anchor": "end", class: "unit" }, units.line));
  svg.append(svgEl("text", { x: W / 2, y: H - 4, "text-anchor": "middle", class: "unit" }, units.x));
  return el("figure", {}, svg, el("figcaption", { class: "legend" }, caption));
}

window.addEventListener("hashchange", () => select(selectionFromUrl() || defaultSelection()));
document.getElementById("pages-only").addEventListener("change", (e) => { state.all = !e.target.checked; loadIncidents(); });
document.getElementById("search").addEventListener("input", (e) => { state.search = e.target.value; loadIncidents(); });
loadIncidents();
setInterval(loadIncidents, REFRESH_MS);
