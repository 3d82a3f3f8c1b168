// The Switchboard dashboard page. Plain JS, no build step. It pulls: every
// 2 s (paused while the tab is hidden) it asks <base>/api/stats for the
// whole cluster and the visible pages of the two lists, and draws what the
// server answered. Names coming from clients (ids, rooms, channels, errors)
// are only ever inserted with textContent.

const base = document.body.dataset.base;
const POLL_MS = 2000;
const PAGE = 20;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
const fmt = (n) => (typeof n === "number" ? n.toLocaleString("en-US") : "–");
const rate = (n) =>
  n === 0 ? "0" : n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);

const state = {
  node: "",
  last: null,
  previous: null,
  timer: null,
  lists: {
    sockets: { offset: 0, q: "", total: 0 },
    sessions: { offset: 0, q: "", total: 0 },
  },
};

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function row(cells, attrs = {}) {
  const tr = document.createElement("tr");
  for (const [key, value] of Object.entries(attrs)) tr.dataset[key] = value;
  for (const cell of cells) {
    if (cell instanceof Node) {
      const td = document.createElement("td");
      td.append(cell);
      tr.append(td);
    } else {
      const td = el("td", cell.text, cell.className);
      if (cell.title) td.title = cell.title;
      tr.append(td);
    }
  }
  return tr;
}

function fill(tbody, rows, empty, columns) {
  tbody.replaceChildren(...rows);
  if (rows.length === 0) {
    const td = el("td", empty, "empty");
    td.colSpan = columns;
    const tr = document.createElement("tr");
    tr.append(td);
    tbody.append(tr);
  }
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  return `${Math.floor(s / 3600)}h ago`;
}

function duration(uptime) {
  const seconds = Math.floor(uptime);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400)
    return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

async function getJson(path) {
  const res = await fetch(`${base}${path}`, { headers: { Accept: "application/json" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
  return body;
}

// The figures of the chosen view: one node's, or the cluster's sum.
function viewOf(answer) {
  if (state.node === "") return { stats: answer.sum, reports: answer.nodes };
  const report = answer.nodes.find((n) => n.node === state.node);
  return report ? { stats: report.stats, reports: [report] } : null;
}

function total(byTransport) {
  let sum = 0;
  for (const count of Object.values(byTransport ?? {})) sum += count;
  return sum;
}

function showConnections(protocol, byTransport) {
  $(`conn-${protocol}-total`).textContent = fmt(total(byTransport));
  // Transports with no connection now (a counter kept at 0) are left out.
  const items = Object.entries(byTransport ?? {})
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([transport, count]) => {
      const li = el("li");
      li.dataset.testid = `conn-${protocol}-${transport}`;
      li.dataset.transport = transport;
      li.append(el("span", transport, "k"), el("span", fmt(count), "v"));
      return li;
    });
  $(`conn-${protocol}`).replaceChildren(...items);
}

const sumPer = (p) => (p ? p.socketio + p.bayeux : 0);

// Per-second rates between consecutive samples; for several nodes, summed per time slot.
function series(reports, every) {
  const slots = new Map();
  for (const report of reports) {
    const h = report.history;
    for (let i = 1; i < h.length; i++) {
      const dt = (h[i].time - h[i - 1].time) / 1000;
      if (dt <= 0) continue;
      const slot = Math.round(h[i].time / every);
      const s = slots.get(slot) ?? { slot, messages: 0, deliveries: 0 };
      s.messages += Math.max(0, h[i].messagesIn - h[i - 1].messagesIn) / dt;
      s.deliveries += Math.max(0, h[i].deliveries - h[i - 1].deliveries) / dt;
      slots.set(slot, s);
    }
  }
  return [...slots.values()].sort((a, b) => a.slot - b.slot);
}

function drawChart(points, every, size) {
  const svg = $("chart");
  // Drawn at the element's own width, so the text is never stretched.
  const W = Math.max(200, Math.round(svg.getBoundingClientRect().width));
  svg.setAttribute("viewBox", `0 0 ${W} 180`);
  const H = 180;
  const pad = 22;
  const max = Math.max(1, ...points.map((p) => Math.max(p.messages, p.deliveries)));
  const last = points.length > 0 ? points[points.length - 1].slot : 0;
  const first = last - size;
  const x = (slot) => ((slot - first) / size) * W;
  const y = (v) => H - pad - (v / max) * (H - 2 * pad);
  const parts = [];
  for (const f of [0, 0.5, 1]) {
    const line = document.createElementNS(SVG, "line");
    line.setAttribute("x1", "0");
    line.setAttribute("x2", String(W));
    line.setAttribute("y1", String(y(max * f)));
    line.setAttribute("y2", String(y(max * f)));
    line.setAttribute("class", "grid");
    parts.push(line);
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", "4");
    label.setAttribute("y", String(y(max * f) - 4));
    label.setAttribute("class", "axis");
    label.textContent = rate(max * f);
    parts.push(label);
  }
  for (const key of ["deliveries", "messages"]) {
    const path = document.createElementNS(SVG, "polyline");
    path.setAttribute(
      "points",
      points.map((p) => `${x(p.slot).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" "),
    );
    path.setAttribute("class", `line ${key}`);
    parts.push(path);
  }
  svg.replaceChildren(...parts);
  svg.dataset.points = String(points.length);
  const minutes = Math.max(1, Math.round((size * every) / 60000));
  $("chart-span").textContent = minutes === 1 ? "last minute" : `last ${minutes} minutes`;
}

function showTopics(stats) {
  const topics = stats.topTopics ?? [];
  const line = (t, first, second) =>
    row(
      [
        { text: t.protocol === "socketio" ? "Socket.IO" : "Bayeux", className: "tag" },
        { text: t.name, className: "mono" },
        { text: fmt(t[first]), className: "num" },
        { text: fmt(t[second]), className: "num" },
      ],
      { testid: "topic-row", name: t.name, protocol: t.protocol },
    );
  const byMembers = [...topics].sort((a, b) => b.members - a.members).slice(0, 10);
  const byTraffic = [...topics]
    .filter((t) => t.messages > 0)
    .sort((a, b) => b.messages - a.messages)
    .slice(0, 10);
  fill(
    $("top-members"),
    byMembers.map((t) => line(t, "members", "messages")),
    "no rooms or channels",
    4,
  );
  fill(
    $("top-traffic"),
    byTraffic.map((t) => line(t, "messages", "members")),
    "no traffic yet",
    4,
  );
}

function showSlowAndErrors(stats) {
  const slow = (stats.slowConsumers ?? []).map((s) =>
    row(
      [
        { text: s.protocol },
        { text: s.id, className: "mono" },
        { text: fmt(s.dropped), className: "num" },
        { text: ago(s.last) },
      ],
      { testid: "slow-row", id: s.id, protocol: s.protocol },
    ),
  );
  fill($("slow-consumers"), slow, "none", 4);
  const errors = [...(stats.recentErrors ?? [])]
    .reverse()
    .map((e) =>
      row(
        [
          { text: new Date(e.time).toLocaleTimeString("en-GB") },
          { text: e.code, className: "mono" },
          { text: e.message, title: e.node ? `node ${e.node}` : "" },
        ],
        { testid: "error-row", code: e.code },
      ),
    );
  fill($("recent-errors"), errors, "none", 3);
}

function showNodes(answer) {
  const panel = $("nodes-panel");
  panel.hidden = !answer.clustered;
  if (!answer.clustered) return;
  const rows = answer.nodes.map((n) =>
    row(
      [
        { text: n.node + (n.node === answer.node ? " (this)" : ""), className: "mono" },
        { text: fmt(total(n.stats.connections.socketio)), className: "num" },
        { text: fmt(total(n.stats.connections.bayeux)), className: "num" },
        { text: fmt(sumPer(n.stats.messagesIn)), className: "num" },
        { text: duration(n.stats.uptime), className: "num" },
      ],
      { testid: "node-row", node: n.node },
    ),
  );
  for (const node of answer.missing) {
    rows.push(
      row(
        [
          { text: node, className: "mono" },
          { text: "no answer", className: "warn" },
          { text: "" },
          { text: "" },
          { text: "" },
        ],
        { testid: "node-row", node, missing: "true" },
      ),
    );
  }
  fill($("nodes"), rows, "", 5);
}

function showNodeChoices(answer) {
  const select = $("node-select");
  const names = [...answer.nodes.map((n) => n.node), ...answer.missing];
  const wanted = ["", ...names];
  const have = [...select.options].map((o) => o.value);
  if (wanted.join("\n") === have.join("\n")) return;
  const options = wanted.map((name) => {
    const option = el("option", name === "" ? "whole cluster" : name);
    option.value = name;
    return option;
  });
  select.replaceChildren(...options);
  select.value = wanted.includes(state.node) ? state.node : "";
  state.node = select.value;
}

function showStats(answer) {
  showNodeChoices(answer);
  showNodes(answer);
  const missing = $("missing");
  missing.hidden = answer.missing.length === 0;
  missing.textContent = answer.missing.length
    ? `partial: no answer from ${answer.missing.join(", ")}`
    : "";
  const view = viewOf(answer);
  if (!view) return;
  const { stats, reports } = view;
  showConnections("socketio", stats.connections.socketio);
  showConnections("bayeux", stats.connections.bayeux);
  // A node past its topic-table bound: the cluster's counts are at least these.
  const atLeast = stats.countsExact === false ? "≥ " : "";
  $("rooms-count").textContent = atLeast + fmt(stats.rooms);
  $("channels-count").textContent = atLeast + fmt(stats.channels);
  $("namespaces-count").textContent = atLeast + fmt(stats.namespaces);
  $("messages-in").textContent = fmt(sumPer(stats.messagesIn));
  $("messages-out").textContent = fmt(sumPer(stats.messagesOut));
  $("deliveries").textContent = fmt(sumPer(stats.deliveries));
  $("drops").textContent = fmt(sumPer(stats.slowConsumerDrops));
  // The rate since the previous poll of the same view, else the last chart point.
  const points = series(reports, answer.sampleEvery);
  const prev = state.previous;
  if (prev && prev.node === state.node && stats.time > prev.time) {
    const dt = (stats.time - prev.time) / 1000;
    $("rate-messages").textContent = rate(
      Math.max(0, sumPer(stats.messagesIn) - prev.messagesIn) / dt,
    );
    $("rate-deliveries").textContent = rate(
      Math.max(0, sumPer(stats.deliveries) - prev.deliveries) / dt,
    );
  } else if (points.length > 0) {
    $("rate-messages").textContent = rate(points[points.length - 1].messages);
    $("rate-deliveries").textContent = rate(points[points.length - 1].deliveries);
  }
  state.previous = {
    node: state.node,
    time: stats.time,
    messagesIn: sumPer(stats.messagesIn),
    deliveries: sumPer(stats.deliveries),
  };
  // n samples make n - 1 rates; the chart spans at least a minute.
  const longest = Math.max(1, ...reports.map((r) => r.history.length - 1));
  drawChart(points, answer.sampleEvery, Math.max(12, longest));
  showTopics(stats);
  showSlowAndErrors(stats);
}

function disconnectButton(protocol, id, nsp) {
  const button = el("button", "disconnect", "danger");
  button.type = "button";
  button.dataset.testid = "disconnect";
  button.addEventListener("click", async () => {
    if (!window.confirm(`Disconnect ${protocol === "socketio" ? "socket" : "session"} ${id}?`))
      return;
    button.disabled = true;
    const res = await fetch(`${base}/api/disconnect`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(nsp === undefined ? { protocol, id } : { protocol, id, nsp }),
    });
    const body = await res.json().catch(() => ({}));
    setStatus(
      res.ok ? `disconnected ${id}` : (body.error?.message ?? `HTTP ${res.status}`),
      res.ok ? "ok" : "error",
    );
    await refreshList(protocol === "socketio" ? "sockets" : "sessions");
  });
  return button;
}

function names(list, count) {
  const text = list.join(", ") + (count > list.length ? ` +${count - list.length}` : "");
  return { text: text || "–", className: "mono names", title: list.join("\n") };
}

function socketRow(s) {
  return row(
    [
      { text: s.id, className: "mono" },
      { text: s.nsp, className: "mono" },
      { text: s.transport, className: "tag" },
      names(s.rooms, s.roomCount),
      { text: s.address, className: "mono" },
      { text: ago(s.connectedAt) },
      { text: s.node, className: "mono dim" },
      disconnectButton("socketio", s.id, s.nsp),
    ],
    { testid: "socket-row", id: s.id, transport: s.transport },
  );
}

function sessionRow(s) {
  return row(
    [
      { text: s.clientId, className: "mono" },
      { text: s.transport, className: "tag" },
      names(s.subscriptions, s.subscriptionCount),
      { text: fmt(s.queued), className: "num" },
      { text: s.node, className: "mono dim" },
      disconnectButton("bayeux", s.clientId),
    ],
    { testid: "session-row", id: s.clientId, transport: s.transport },
  );
}

async function refreshList(kind) {
  const list = state.lists[kind];
  const params = new URLSearchParams({
    q: list.q,
    offset: String(list.offset),
    limit: String(PAGE),
  });
  if (state.node !== "") params.set("node", state.node);
  const answer = await getJson(`/api/${kind}?${params}`);
  // Past the end (connections left): back to the last page.
  if (answer.items.length === 0 && list.offset > 0 && answer.total > 0) {
    list.offset = Math.max(0, Math.floor((answer.total - 1) / PAGE) * PAGE);
    return refreshList(kind);
  }
  list.total = answer.total;
  const rows = answer.items.map(kind === "sockets" ? socketRow : sessionRow);
  fill($(`${kind}-rows`), rows, list.q ? "no match" : "none", kind === "sockets" ? 8 : 6);
  $(`${kind}-total`).textContent = fmt(answer.total);
  const first = answer.total === 0 ? 0 : list.offset + 1;
  $(`${kind}-range`).textContent =
    `${first}–${list.offset + answer.items.length} of ${fmt(answer.total)}`;
  $(`${kind}-prev`).disabled = list.offset === 0;
  $(`${kind}-next`).disabled = list.offset + PAGE >= answer.total;
}

function setStatus(text, kind) {
  $("status").textContent = text;
  document.body.dataset.state = kind;
}

async function poll() {
  try {
    const answer = await getJson("/api/stats?scope=cluster");
    state.last = answer;
    showStats(answer);
    await Promise.all([refreshList("sockets"), refreshList("sessions")]);
    setStatus(`updated ${new Date().toLocaleTimeString("en-GB")}`, "ok");
  } catch (err) {
    setStatus(`error: ${err.message}`, "error");
  }
}

function schedule() {
  clearTimeout(state.timer);
  if (document.hidden) return;
  state.timer = setTimeout(async () => {
    await poll();
    schedule();
  }, POLL_MS);
}

function wireList(kind) {
  const list = state.lists[kind];
  let typing = null;
  $(`${kind}-search`).addEventListener("input", (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      list.q = event.target.value.trim();
      list.offset = 0;
      void refreshList(kind);
    }, 250);
  });
  $(`${kind}-prev`).addEventListener("click", () => {
    list.offset = Math.max(0, list.offset - PAGE);
    void refreshList(kind);
  });
  $(`${kind}-next`).addEventListener("click", () => {
    if (list.offset + PAGE < list.total) list.offset += PAGE;
    void refreshList(kind);
  });
}

$("node-select").addEventListener("change", (event) => {
  state.node = event.target.value;
  state.previous = null;
  state.lists.sockets.offset = 0;
  state.lists.sessions.offset = 0;
  if (state.last) showStats(state.last);
  void Promise.all([refreshList("sockets"), refreshList("sessions")]);
});

document.addEventListener("visibilitychange", async () => {
  if (document.hidden) {
    clearTimeout(state.timer);
    return;
  }
  await poll();
  schedule();
});

wireList("sockets");
wireList("sessions");
poll().then(schedule);
