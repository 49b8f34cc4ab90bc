// The dashboard page: one HTML document with its CSS and script inline (the server's CSP allows only this
// script, by nonce). The script fetches a snapshot, fills the three views, and fetches again whenever the event
// stream reports a new data version: figures change in place, the page never reloads.
import { RATING_LABELS } from '../answers';
import { escapeHtml } from '../html';
import { DEFAULT_DAYS } from '../operations';

const CSS = `
  :root { color-scheme: light; --ink: #222; --muted: #667; --rule: #e2e4e8; --accent: #17375e; --bg: #f5f6f8; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
         color: var(--ink); background: var(--bg); }
  header { background: var(--accent); color: #fff; padding: 10px 20px; display: flex; flex-wrap: wrap;
           gap: 12px 28px; align-items: center; }
  header h1 { font-size: 18px; margin: 0; }
  nav a { color: #cfe0f5; text-decoration: none; padding: 6px 12px; border-radius: 4px; font-weight: 600; }
  nav a[aria-current="page"] { background: #fff; color: var(--accent); }
  form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
  form label { display: flex; gap: 4px; align-items: center; }
  input, button { font: inherit; padding: 3px 8px; border-radius: 4px; border: 1px solid #9ab; }
  button { background: #fff; color: var(--accent); cursor: pointer; }
  #status { margin-left: auto; font-size: 13px; }
  #status::before { content: "●"; margin-right: 6px; color: #f0ad4e; }
  #status[data-state="live"]::before { color: #5cd65c; }
  #status[data-state="problem"]::before { color: #ff6b6b; }
  #problem { background: #fdecea; color: #8a1f11; padding: 8px 20px; border-bottom: 1px solid #f5c2bb; }
  main { padding: 16px 20px; max-width: 1400px; margin: 0 auto; }
  .cards { display: flex; gap: 16px; flex-wrap: wrap; margin-bottom: 16px; }
  .card { background: #fff; border: 1px solid var(--rule); border-radius: 6px; padding: 10px 16px; min-width: 170px; }
  .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 28px; font-weight: 700; font-variant-numeric: tabular-nums; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
  .panel { background: #fff; border: 1px solid var(--rule); border-radius: 6px; padding: 12px 16px; min-width: 0; }
  .panel h2 { font-size: 15px; margin: 0 0 8px; }
  .chart svg { width: 100%; height: auto; display: block; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin-top: 8px; }
  th, td { padding: 3px 8px; border-bottom: 1px solid var(--rule); text-align: left; white-space: nowrap; }
  th { color: var(--muted); font-weight: 600; font-size: 12px; }
  td.num, th.num { text-align: right; }
  tr.fresh td { animation: flash 3s ease-out; }
  @keyframes flash { from { background: #fff3b0; } to { background: transparent; } }
  .empty { color: var(--muted); font-style: italic; }
  .warn { background: #fff4e5; color: #7a4b00; border: 1px solid #f5d5a0; border-radius: 6px; padding: 8px 12px;
          margin-bottom: 12px; }
  td[data-field="status"][data-value="failed"] { color: #c0392b; font-weight: 700; }
`;

// Plain ES2020 for the browser; it builds every cell with textContent, so no figure is parsed as HTML. The
// charts are SVG strings rendered by this server (ECharts SSR), the only markup inserted as such.
const SCRIPT = String.raw`
(() => {
  'use strict';
  const $ = (id) => document.getElementById(id);
  const RATINGS = ['Terrible', 'Bad', 'Neutral', 'Good', 'Amazing'];
  let shown = null;
  let loading = false;
  let again = false;
  let seenIds = null;

  const avg = (n) => (n === null || n === undefined ? '–' : n.toFixed(2));
  const hour = (h) => String(h).padStart(2, '0') + ':00';

  function range() {
    const q = new URLSearchParams(location.search);
    return { from: q.get('from') || '', to: q.get('to') || '' };
  }

  // isNew marks rows to flash once (a new emergency stands out).
  function fillTable(id, rows, cells, key, isNew) {
    const body = $(id);
    body.replaceChildren();
    for (const row of rows) {
      const tr = document.createElement('tr');
      if (key) {
        tr.dataset.key = String(key(row));
        if (isNew && isNew(tr.dataset.key)) tr.className = 'fresh';
      }
      for (const [field, value, numeric] of cells(row)) {
        const td = document.createElement('td');
        td.dataset.field = field;
        td.textContent = String(value);
        if (numeric) td.className = 'num';
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 9;
      td.className = 'empty';
      td.textContent = 'none in this period';
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  function render(s) {
    const m = s.manager;
    const sec = s.security;
    $('total-visits').textContent = String(s.totals.visits);
    $('total-avg').textContent = avg(s.totals.avgRating);
    $('total-assistance').textContent = String(s.totals.assistance);
    $('total-emergencies').textContent = String(s.totals.emergencies);
    $('chart-popularity').innerHTML = m.charts.popularity;
    $('chart-distribution').innerHTML = m.charts.distribution;
    $('chart-rating-hour').innerHTML = m.charts.byHour;
    $('chart-requests-exhibition').innerHTML = sec.charts.byExhibition;
    $('chart-requests-hour').innerHTML = sec.charts.byHour;
    $('chart-heatmap').innerHTML = sec.charts.heatmap;
    fillTable('rows-exhibitions', m.exhibitions, (e) => [
      ['name', e.name],
      ['visits', e.visits, true],
      ['avgRating', avg(e.avgRating), true],
    ], (e) => e.site);
    fillTable('rows-distribution', m.exhibitions, (e) => [
      ['name', e.name],
      ...RATINGS.map((r, v) => ['rating' + v, e.ratingCounts[v], true]),
    ], (e) => e.site);
    fillTable('rows-rating-hours', m.hours, (h) => [
      ['hour', hour(h.hour)],
      ['ratings', h.ratings, true],
      ['avgRating', avg(h.avgRating), true],
    ], (h) => h.hour);
    fillTable('rows-requests', sec.exhibitions, (e) => [
      ['name', e.name],
      ['floor', e.floor],
      ['assistance', e.assistance, true],
      ['emergencies', e.emergencies, true],
    ], (e) => e.site);
    fillTable('rows-request-hours', sec.hours, (h) => [
      ['hour', hour(h.hour)],
      ['assistance', h.assistance, true],
      ['emergencies', h.emergencies, true],
    ], (h) => h.hour);
    fillTable('rows-emergencies', sec.latestEmergencies, (e) => [
      ['time', e.localTime],
      ['name', e.name],
      ['floor', e.floor],
      ['source', e.source],
    ], (e) => 'emergency-' + e.id, (key) => seenIds !== null && !seenIds.has(key));
    // The first render, and the first after a filter change, flash nothing.
    seenIds = new Set(sec.latestEmergencies.map((e) => 'emergency-' + e.id));
    document.body.dataset.version = s.version;
    shown = s;
    const r = s.range.from || s.range.to ? (s.range.from || '…') + ' to ' + (s.range.to || '…') : 'all dates';
    $('period').textContent = r;
    $('updated').textContent = new Date().toLocaleTimeString('en-GB');
  }

  const OPS_REFRESH_MS = 10000;
  let opsTimer = null;

  function age(seconds) {
    if (seconds === null || seconds === undefined) return 'nothing stored';
    if (seconds < 90) return seconds + ' s';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min';
    if (seconds < 172800) return Math.round(seconds / 3600) + ' h';
    return Math.round(seconds / 86400) + ' days';
  }
  const dash = (v) => (v === null || v === undefined ? '–' : String(v));
  const pct = (n, d) => (d === 0 ? '–' : ((100 * n) / d).toFixed(1) + '%');

  function renderOps(o) {
    for (const f of o.freshness) {
      $('fresh-' + f.source).textContent = age(f.ageSeconds);
      $('fresh-' + f.source).title = f.newestAt || '';
    }
    $('ops-kafka').hidden = !o.kafkaProblem;
    $('ops-kafka').textContent = o.kafkaProblem ? o.kafkaProblem + ' – log end offsets and lag are unknown; stored offsets come from the database.' : '';
    $('ops-topic').textContent = o.topic;
    fillTable('rows-partitions', o.partitions, (p) => [
      ['partition', p.partition, true],
      ['stored', dash(p.storedOffset), true],
      ['logEnd', dash(p.logEndOffset), true],
      ['lag', p.lag === null ? 'unknown' : p.lag, true],
    ], (p) => 'partition-' + p.partition);
    $('chart-reject-rate').innerHTML = o.charts.rejectRate;
    fillTable('rows-reject-days', o.rejectDays, (d) => [
      ['day', d.day],
      ['read', d.read, true],
      ['rejected', d.rejected, true],
      ['rate', pct(d.rejected, d.read), true],
      ['reasons', Object.entries(d.byReason).sort((a, b) => b[1] - a[1]).map(([k, n]) => k + ' ' + n).join(', ')],
    ], (d) => d.day);
    fillTable('rows-runs', o.runs, (r) => [
      ['started', r.startedAt.replace('T', ' ').slice(0, 19)],
      ['kind', r.kind],
      ['status', r.status],
      ['read', r.read, true],
      ['loaded', r.loaded, true],
      ['rejected', r.rejected, true],
      ['workflow', r.workflowId],
    ], (r) => r.runId);
    for (const td of document.querySelectorAll('#rows-runs td[data-field="status"]')) td.dataset.value = td.textContent;
    document.body.dataset.opsAt = o.generatedAt;
  }

  // One of the data routes for the chosen range; throws with the server's message when it refuses.
  async function fetchRange(route) {
    const { from, to } = range();
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    const res = await fetch(route + '?' + q.toString(), { cache: 'no-store' });
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.statusText);
    return body;
  }

  async function loadOps() {
    if ($('view-operations').hidden) return;
    try {
      renderOps(await fetchRange('/api/operations'));
      problem(null);
    } catch (err) {
      problem(err.message);
    }
  }

  function problem(message) {
    $('problem').hidden = !message;
    $('problem').textContent = message ? 'Problem: ' + message : '';
    if (message) $('status').dataset.state = 'problem';
  }

  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      render(await fetchRange('/api/snapshot'));
      problem(null);
    } catch (err) {
      problem(err.message);
    } finally {
      loading = false;
      if (again) { again = false; void load(); }
    }
  }

  function connect() {
    const events = new EventSource('/api/events');
    events.addEventListener('version', (ev) => {
      $('status').dataset.state = 'live';
      $('live').textContent = 'live';
      const { version } = JSON.parse(ev.data);
      if (!shown || shown.version !== version) { void load(); void loadOps(); }
    });
    events.addEventListener('problem', (ev) => problem(JSON.parse(ev.data).message));
    events.onerror = () => {
      $('status').dataset.state = 'reconnecting';
      $('live').textContent = 'reconnecting';
    };
  }

  function setRange(from, to) {
    const q = new URLSearchParams();
    if (from) q.set('from', from);
    if (to) q.set('to', to);
    const search = q.toString();
    history.replaceState(null, '', (search ? '?' + search : location.pathname) + location.hash);
    $('from').value = from;
    $('to').value = to;
    seenIds = null;
    void load();
    void loadOps();
  }

  function showView() {
    const view = location.hash === '#security' ? 'security' : location.hash === '#operations' ? 'operations' : 'manager';
    for (const name of ['manager', 'security', 'operations']) {
      $('view-' + name).hidden = name !== view;
      $('tab-' + name).setAttribute('aria-current', name === view ? 'page' : 'false');
    }
    // Lag moves without new rows (Kafka grows while the pipeline is stuck), so this view also polls.
    clearInterval(opsTimer);
    opsTimer = null;
    if (view === 'operations') {
      void loadOps();
      opsTimer = setInterval(() => void loadOps(), OPS_REFRESH_MS);
    }
  }

  $('filter').addEventListener('submit', (ev) => {
    ev.preventDefault();
    setRange($('from').value, $('to').value);
  });
  $('all').addEventListener('click', () => setRange('', ''));
  $('today').addEventListener('click', () => {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
    setRange(today, today);
  });
  window.addEventListener('hashchange', showView);
  const initial = range();
  $('from').value = initial.from;
  $('to').value = initial.to;
  showView();
  void load();
  connect();
})();
`;

function table(id: string, headers: [string, boolean?][]): string {
  const head = headers
    .map(([h, numeric]) => `<th${numeric ? ' class="num"' : ''}>${escapeHtml(h)}</th>`)
    .join('');
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody id="${id}"></tbody></table></div>`;
}

function card(id: string, label: string): string {
  return `<div class="card"><div class="label">${escapeHtml(label)}</div><div class="value" id="${id}">…</div></div>`;
}

export function dashboardPage(nonce: string): string {
  return `<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LMNH kiosk dashboard</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>LMNH kiosks</h1>
  <nav>
    <a id="tab-manager" href="#manager">Exhibitions</a>
    <a id="tab-security" href="#security">Security</a>
    <a id="tab-operations" href="#operations">Operations</a>
  </nav>
  <form id="filter">
    <label>From <input id="from" type="date"></label>
    <label>To <input id="to" type="date"></label>
    <button type="submit">Apply</button>
    <button type="button" id="today">Today</button>
    <button type="button" id="all">All dates</button>
  </form>
  <div id="status" data-state="connecting"><span id="live">connecting</span> · <span id="period"></span> ·
    updated <span id="updated">never</span></div>
</header>
<div id="problem" role="alert" hidden></div>
<main>
<section id="view-manager" aria-label="Exhibitions manager">
  <div class="cards">${card('total-visits', 'Visits (ratings)')}${card('total-avg', 'Average rating (0–4)')}</div>
  <div class="grid">
    <div class="panel"><h2>Popularity: visits per exhibition</h2><div class="chart" id="chart-popularity"></div>
      ${table('rows-exhibitions', [['Exhibition'], ['Visits', true], ['Average rating', true]])}</div>
    <div class="panel"><h2>Rating distribution</h2><div class="chart" id="chart-distribution"></div>
      ${table('rows-distribution', [['Exhibition'], ...RATING_LABELS.map((r): [string, boolean] => [r, true])])}</div>
    <div class="panel"><h2>Rating by hour (Europe/London)</h2><div class="chart" id="chart-rating-hour"></div>
      ${table('rows-rating-hours', [['Hour'], ['Ratings', true], ['Average', true]])}</div>
  </div>
</section>
<section id="view-security" aria-label="Security" hidden>
  <div class="cards">${card('total-assistance', 'Assistance requests')}${card('total-emergencies', 'Emergencies')}</div>
  <div class="grid">
    <div class="panel"><h2>Latest emergencies</h2>
      ${table('rows-emergencies', [['Time (London)'], ['Exhibition'], ['Floor'], ['Source']])}</div>
    <div class="panel"><h2>Requests per exhibition</h2><div class="chart" id="chart-requests-exhibition"></div>
      ${table('rows-requests', [['Exhibition'], ['Floor'], ['Assistance', true], ['Emergencies', true]])}</div>
    <div class="panel"><h2>Requests per hour (Europe/London)</h2><div class="chart" id="chart-requests-hour"></div>
      ${table('rows-request-hours', [['Hour'], ['Assistance', true], ['Emergencies', true]])}</div>
    <div class="panel"><h2>Requests by exhibition and hour</h2><div class="chart" id="chart-heatmap"></div></div>
  </div>
</section>
<section id="view-operations" aria-label="Operations" hidden>
  <div class="cards">${card('fresh-stream', 'Newest stream press, age')}${card('fresh-batch', 'Newest batch press, age')}</div>
  <div id="ops-kafka" class="warn" role="status" hidden></div>
  <div class="grid">
    <div class="panel"><h2>Lag per partition of <span id="ops-topic"></span></h2>
      ${table('rows-partitions', [
        ['Partition', true],
        ['Stored offset', true],
        ['Log end offset', true],
        ['Lag', true],
      ])}</div>
    <div class="panel"><h2>Latest runs</h2>
      ${table('rows-runs', [['Started (UTC)'], ['Kind'], ['Status'], ['Read', true], ['Loaded', true], ['Rejected', true], ['Workflow']])}</div>
    <div class="panel"><h2>Reject rate by reason per day (run ledger; last ${DEFAULT_DAYS} days unless a range is chosen)</h2>
      <div class="chart" id="chart-reject-rate"></div>
      ${table('rows-reject-days', [['Day (London)'], ['Read', true], ['Rejected', true], ['Rate', true], ['Reasons']])}</div>
  </div>
</section>
</main>
<script nonce="${escapeHtml(nonce)}">${SCRIPT}</script>
</body>
</html>
`;
}
