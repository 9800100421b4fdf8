/// The Trading Dashboard's script: REST loads, the live feed (`EventSource` on
/// `/api/v1/stream`), the equity chart (SVG drawn here), the decision trail, the agents table,
/// breaker commands and improvement experiment approve/stop.
enum DashboardScript {
    static let javascript = #"""
'use strict';
// TMT Trading Dashboard. Plain DOM code, no framework. Data: the REST routes of this origin
// (the dashboard port serves the same API as port 8000) and the live feed /api/v1/stream.
(function () {
  const state = {
    accounts: new Map(),     // id -> account as /api/v1/accounts has it
    live: new Map(),         // id -> newer figures from accounts.updates: {at (ms), balance, equity, dailyPnl}
    positions: new Map(),    // "account|instrument" -> position
    orders: [],
    expanded: null,          // order id whose trail is open
    trailNode: null,
    series: [],              // equity points of the selected account
    filter: '',              // account filter ('' = all)
    selected: '',            // account of the equity chart
    events: 0,
    lastMessage: 0,
    heartbeatSeconds: 15,
    connectedOnce: false,
    source: null,
    timers: {},
  };
  const $ = (s) => document.querySelector(s);

  // ---- small helpers -------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'style') e.setAttribute('style', v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'data') { for (const [dk, dv] of Object.entries(v)) if (dv !== null && dv !== undefined) e.dataset[dk] = String(dv); }
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(3)) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c instanceof Node ? c : String(c));
    }
    return e;
  }
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function num(v) { const n = typeof v === 'number' ? v : parseFloat(v); return Number.isFinite(n) ? n : null; }
  function money(v) { const n = num(v); return n === null ? '—' : n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }); }
  function fixed(v, d) { const n = num(v); return n === null ? '—' : n.toFixed(d); }
  function qty(v) { const n = num(v); return n === null ? '—' : String(+n.toFixed(6)); }
  function price(v) { const n = num(v); return n === null ? '—' : String(+n.toFixed(6)); }
  function sign(v) { const n = num(v); return !n ? '' : (n > 0 ? 'pos' : 'neg'); }
  function when(v) {
    if (v === null || v === undefined || v === '') return '—';
    const d = typeof v === 'number' ? new Date(v) : new Date(v);
    return isNaN(d.getTime()) ? String(v) : d.toISOString().slice(0, 19).replace('T', ' ');
  }
  function clock(ms) { return new Date(ms).toISOString().slice(11, 19); }
  function badge(text, cls) { return el('span', { class: 'badge ' + (cls || text || ''), text: text || '?' }); }
  function debounce(name, ms, fn) { clearTimeout(state.timers[name]); state.timers[name] = setTimeout(fn, ms); }

  async function api(path, options) {
    try {
      const res = await fetch(path, Object.assign({ headers: { Accept: 'application/json' }, cache: 'no-store' }, options || {}));
      let body = null;
      try { body = await res.json(); } catch (e) { body = null; }
      return { status: res.status, ok: res.ok, body };
    } catch (e) {
      return { status: 0, ok: false, body: { error: { code: 'network', message: String(e) } } };
    }
  }
  function q(path) { return state.filter ? path + (path.includes('?') ? '&' : '?') + 'account=' + encodeURIComponent(state.filter) : path; }

  // ---- health --------------------------------------------------------------------------
  async function loadHealth() { const r = await api('/health'); if (r.body && r.body.components) renderHealth(r.body); }
  function renderHealth(report) {
    $('#health').replaceChildren(...(report.components || []).map((c) =>
      el('div', { class: 'tile ' + c.status, data: { component: c.name, status: c.status }, title: c.error || (c.name + ' is ' + c.status) },
        el('div', { class: 'name', text: c.name }),
        el('div', { class: 'meta', text: c.kind + ' · ' + fixed(c.latencyMs, 1) + ' ms' }),
        c.error ? el('div', { class: 'err', text: c.error }) : null)));
    const s = $('#health-status');
    s.textContent = report.status; s.className = 'badge ' + report.status; s.dataset.status = report.status;
    $('#health-checked').textContent = 'checked ' + when(report.checkedAt) + ' UTC';
  }

  // ---- agents --------------------------------------------------------------------------
  function duration(s) {
    const n = num(s); if (n === null) return '—';
    const d = Math.floor(n / 86400), h = Math.floor(n % 86400 / 3600), m = Math.floor(n % 3600 / 60);
    return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m ? m + 'm ' + Math.floor(n % 60) + 's' : n.toFixed(0) + 's';
  }
  async function loadAgents() {
    const r = await api('/api/v1/agents');
    const table = $('#agents');
    if (!r.ok || !r.body) { table.dataset.state = 'error'; return; }
    $('#agents tbody').replaceChildren(...(r.body.items || []).map((a) => {
      const topics = Object.keys(a.consumerLag || {}).sort().map((t) => t + ' ' + qty(a.consumerLag[t])).join(', ');
      return el('tr', { data: { agentName: a.name, status: a.status }, title: a.url },
        el('td', { text: a.name }),
        el('td', { data: { field: 'status' } }, badge(a.status, a.status === 'up' ? 'healthy' : a.status === 'down' ? 'unhealthy' : 'warning')),
        el('td', { data: { field: 'version' }, text: a.version || '—' }),
        el('td', { class: 'r num', data: { field: 'uptime', value: a.uptimeSeconds == null ? '' : String(a.uptimeSeconds) }, text: duration(a.uptimeSeconds) }),
        el('td', { class: 'r num', data: { field: 'lag' }, text: a.totalLag == null ? '—' : qty(a.totalLag) }),
        el('td', { class: 'small', data: { field: 'lagByTopic' }, text: topics || '—' }),
        el('td', { class: 'small err', data: { field: 'lastError' }, title: a.lastError || '', text: a.lastError || '' }));
    }));
    $('#agents-checked').textContent = 'checked ' + when(r.body.checkedAt) + ' UTC';
    table.dataset.state = 'loaded';
  }

  // ---- accounts ------------------------------------------------------------------------
  async function loadAccounts() {
    const r = await api('/api/v1/accounts');
    if (!r.ok || !r.body) return;
    state.accounts = new Map(r.body.items.map((a) => [a.id, a]));
    renderAccounts();
    renderFilterOptions();
    renderWarnings();
  }
  // A loss limit measured again at a newer equity: the loss is what the equity lies below the
  // level the server measured from (the day-start level; the initial balance or the trailing
  // high-water mark), as the compliance engine counts it. A trailing mark rises with the equity.
  function remeasure(limit, equity, trailing) {
    const ref = limit ? num(limit.reference) : null, e = num(equity);
    if (ref === null || e === null) return limit;
    return withUsed(limit, Math.max(0, (trailing ? Math.max(ref, e) : ref) - e));
  }
  function withUsed(limit, used) {
    const allowed = num(limit.allowed !== undefined ? limit.allowed : limit.limit);
    if (allowed === null) return limit;
    const pct = allowed > 0 ? used / allowed * 100 : 0;
    return Object.assign({}, limit, { used, usedPercent: pct,
      status: used > allowed ? 'breached' : (pct >= num(limit.warningPercent) ? 'warning' : 'ok') });
  }
  // The account's figures: the stored row, unless a live update is newer than it.
  function figures(a) {
    const f = { balance: a.balance, equity: a.equity, dailyPnl: a.dailyPnl, dailyLoss: a.dailyLoss, maxLoss: a.maxLoss,
      drawdownPercent: a.drawdownPercent, live: false };
    const l = state.live.get(a.id);
    if (l && (!a.updatedAt || l.at > Date.parse(a.updatedAt))) {
      f.balance = l.balance; f.equity = l.equity; f.dailyPnl = l.dailyPnl; f.live = true;
      // The same day as the stored row (the same start balance): measured from the stored
      // day-start level. A day the row does not have yet: its loss is the day's P&L so far.
      const storedStart = (num(a.equity) || 0) - (num(a.dailyPnl) || 0), liveStart = (num(l.equity) || 0) - (num(l.dailyPnl) || 0);
      f.dailyLoss = !a.dailyLoss ? a.dailyLoss : Math.abs(storedStart - liveStart) < 0.005 ? remeasure(a.dailyLoss, l.equity, false)
        : withUsed(a.dailyLoss, Math.max(0, -(num(l.dailyPnl) || 0)));
      // Trailing when the server measured from the high-water mark rather than the initial balance.
      const trailing = a.maxLoss && num(a.maxLoss.reference) !== num(a.initialBalance);
      f.maxLoss = remeasure(a.maxLoss, l.equity, trailing);
      const mark = Math.max(num(a.highWaterMark) || 0, num(l.equity) || 0);
      if (mark > 0 && num(l.equity) !== null) f.drawdownPercent = Math.max(0, (mark - num(l.equity)) / mark * 100);
    }
    return f;
  }
  function meter(limit, what) {
    if (!limit) return el('span', { class: 'muted', text: 'no limit' });
    const p = Math.max(0, Math.min(100, num(limit.usedPercent) || 0));
    const allowed = limit.allowed !== undefined ? limit.allowed : limit.limit;
    const title = money(limit.used) + ' lost of ' + money(allowed) + ' allowed'
      + (what === 'max' ? ' (equity floor ' + money(limit.limit) + ')' : '') + ' (' + limit.status + ')';
    return el('div', { class: 'meter ' + limit.status, title, data: { status: limit.status, percent: fixed(limit.usedPercent, 1) } },
      el('span', { style: 'width:' + p.toFixed(1) + '%' }), el('em', { text: fixed(limit.usedPercent, 1) + '%' }));
  }
  function accountRow(a) {
    const f = figures(a);
    return el('tr', { class: 'clickable' + (a.id === state.selected ? ' selected' : ''), data: { accountId: a.id, live: f.live ? 'true' : null },
      onclick: () => selectAccount(a.id === state.filter ? '' : a.id) },
      el('td', { text: a.id, title: a.epoch ? 'challenge ' + (a.epoch + 1) + ', restarted ' + when(a.restartedAt) : null },
        a.epoch ? el('small', { class: 'muted', data: { field: 'epoch', value: String(a.epoch) }, text: ' #' + (a.epoch + 1) }) : null),
      el('td', { text: a.firmName || a.firm }),
      el('td', { class: 'r num', data: { field: 'balance', value: f.balance }, text: money(f.balance) }),
      el('td', { class: 'r num', data: { field: 'equity', value: f.equity }, text: money(f.equity) }),
      el('td', { class: 'r num ' + sign(f.dailyPnl), data: { field: 'dailyPnl', value: f.dailyPnl }, text: money(f.dailyPnl) }),
      el('td', { data: { field: 'dailyLoss' } }, meter(f.dailyLoss, 'daily')),
      el('td', { data: { field: 'maxLoss' } }, meter(f.maxLoss, 'max')),
      el('td', { class: 'r num', data: { field: 'drawdown', value: f.drawdownPercent }, text: fixed(f.drawdownPercent, 2) + '%' }),
      el('td', { class: 'muted', text: f.live ? 'live' : when(a.updatedAt) }));
  }
  function renderAccounts() {
    const list = [...state.accounts.values()].filter((a) => !state.filter || a.id === state.filter).sort((x, y) => x.id.localeCompare(y.id));
    $('#accounts tbody').replaceChildren(...list.map(accountRow));
    if (!state.selected && list.length) selectChart(state.filter || list[0].id);
  }
  function renderFilterOptions() {
    const sel = $('#account-filter');
    const ids = [...state.accounts.keys()].sort();
    if (state.filter && !ids.includes(state.filter)) ids.unshift(state.filter);
    sel.replaceChildren(el('option', { value: '', text: 'all accounts' }), ...ids.map((id) => el('option', { value: id, text: id })));
    sel.value = state.filter;
  }
  function applyLiveAccount(envelope) {
    const a = envelope.payload || {};
    if (!a.id) return;
    const at = num(envelope.createdAt) ? num(envelope.createdAt) / 1000 : Date.now();
    state.live.set(a.id, { at, balance: a.balance, equity: a.equity, dailyPnl: a.dailyPnL !== undefined ? a.dailyPnL : a.dailyPnl });
    if (!state.accounts.has(a.id)) {
      state.accounts.set(a.id, { id: a.id, firm: a.firm, currency: a.currency, balance: a.balance, equity: a.equity, dailyPnl: a.dailyPnL, drawdownPercent: null });
    }
    const row = document.querySelector('#accounts tr[data-account-id="' + CSS.escape(a.id) + '"]');
    const fresh = accountRow(state.accounts.get(a.id));
    if (row) row.replaceWith(fresh); else renderAccounts();
    debounce('warnings', 1000, renderWarnings);
    if (a.id === state.selected) { state.series.push({ at: new Date(at).toISOString(), equity: a.equity, balance: a.balance }); drawEquity(); }
  }

  // ---- equity chart ----------------------------------------------------------------------
  function selectAccount(id) {
    state.filter = id;
    const url = new URL(location.href);
    if (id) url.searchParams.set('account', id); else url.searchParams.delete('account');
    history.replaceState(null, '', url);
    $('#account-filter').value = id;
    if (id) selectChart(id);
    renderAccounts();
    loadPositions(); loadOrders(); loadCompliance(); loadBreaker();
  }
  async function selectChart(id) {
    state.selected = id;
    $('#equity-account').textContent = id;
    const r = await api('/api/v1/accounts/' + encodeURIComponent(id) + '/equity?limit=1000');
    if (state.selected !== id) return;
    state.series = r.ok && r.body ? r.body.items : [];
    drawEquity();
    document.querySelectorAll('#accounts tr[data-account-id]').forEach((tr) => tr.classList.toggle('selected', tr.dataset.accountId === id));
  }
  function drawEquity() {
    const box = $('#equity-chart');
    const a = state.accounts.get(state.selected);
    const pts = state.series.map((p) => ({ t: Date.parse(p.at), e: num(p.equity), b: num(p.balance) })).filter((p) => p.t && p.e !== null);
    if (pts.length === 0) { box.replaceChildren(el('p', { class: 'muted', text: 'no snapshots for ' + state.selected + ' yet' })); box.dataset.points = '0'; return; }
    const W = 640, H = 240, L = 70, R = 10, T = 10, B = 24;
    const floors = [];
    if (a && a.maxLoss && num(a.maxLoss.limit)) floors.push({ v: num(a.maxLoss.limit), cls: 'floor', label: 'max-loss floor' });
    if (a && a.dailyLoss && num(a.dailyLoss.reference) !== null && num(a.dailyLoss.allowed) !== null) {
      floors.push({ v: num(a.dailyLoss.reference) - num(a.dailyLoss.allowed), cls: 'daily', label: 'daily-loss floor' });
    }
    let lo = Math.min(...pts.map((p) => Math.min(p.e, p.b === null ? p.e : p.b)));
    let hi = Math.max(...pts.map((p) => Math.max(p.e, p.b === null ? p.e : p.b)));
    for (const f of floors) if (f.v > lo - (hi - lo + 1) * 0.6) lo = Math.min(lo, f.v);
    if (hi === lo) { hi += 1; lo -= 1; }
    const pad = (hi - lo) * 0.05; hi += pad; lo -= pad;
    const t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
    const x = (t) => L + (t - t0) / (t1 - t0) * (W - L - R);
    const y = (v) => T + (hi - v) / (hi - lo) * (H - T - B);
    const s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'equity curve of ' + state.selected });
    for (let i = 0; i <= 4; i++) {
      const v = lo + (hi - lo) * i / 4;
      s.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      s.append(svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' }, money(v)));
    }
    for (const f of floors) if (f.v >= lo && f.v <= hi) {
      s.append(svg('line', { class: f.cls, x1: L, x2: W - R, y1: y(f.v), y2: y(f.v) }));
      s.append(svg('text', { x: W - R - 4, y: y(f.v) - 4, 'text-anchor': 'end' }, f.label));
    }
    const path = (key) => pts.filter((p) => p[key] !== null).map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p[key]).toFixed(1)).join(' ');
    if (pts.length === 1) {
      s.append(svg('circle', { cx: x(pts[0].t), cy: y(pts[0].e), r: 3, fill: '#58a6ff' }));
    } else {
      s.append(svg('path', { class: 'balance', d: path('b') }));
      s.append(svg('path', { class: 'equity', d: path('e') }));
    }
    s.append(svg('text', { x: L, y: H - 6 }, when(t0)));
    s.append(svg('text', { x: W - R, y: H - 6, 'text-anchor': 'end' }, when(t1)));
    const legend = el('div', { class: 'legend' },
      el('span', {}, el('i', { style: 'background:#58a6ff' }), 'equity'), el('span', {}, el('i', { style: 'background:#a371f7' }), 'balance'),
      el('span', {}, el('i', { style: 'background:#f85149' }), 'max-loss floor'), el('span', {}, el('i', { style: 'background:#d29922' }), 'daily-loss floor'),
      el('span', { text: pts.length + ' points · last ' + money(pts[pts.length - 1].e) }));
    box.replaceChildren(s, legend);
    box.dataset.points = String(pts.length);
  }

  // ---- positions ---------------------------------------------------------------------------
  async function loadPositions() {
    const r = await api(q('/api/v1/positions'));
    if (!r.ok || !r.body) return;
    state.positions = new Map(r.body.items.map((p) => [p.accountId + '|' + p.instrument, p]));
    renderPositions();
  }
  function renderPositions() {
    const list = [...state.positions.values()].filter((p) => !state.filter || p.accountId === state.filter)
      .sort((a, b) => (a.accountId + a.instrument).localeCompare(b.accountId + b.instrument));
    $('#positions tbody').replaceChildren(...list.map((p) => el('tr', { data: { position: p.accountId + '|' + p.instrument, accountId: p.accountId } },
      el('td', { text: p.accountId }), el('td', { text: p.instrument }),
      el('td', {}, badge(p.side || (num(p.quantity) > 0 ? 'long' : 'short'), num(p.quantity) > 0 ? 'ok' : 'warning')),
      el('td', { class: 'r num', data: { field: 'quantity', value: p.quantity }, text: qty(p.quantity) }),
      el('td', { class: 'r num', text: price(p.averagePrice) }),
      el('td', { class: 'r num', data: { field: 'mark' }, text: price(p.markPrice) }),
      el('td', { class: 'r num ' + sign(p.unrealizedPnl), data: { field: 'unrealized', value: p.unrealizedPnl == null ? '' : p.unrealizedPnl },
        title: p.markedAt ? 'marked ' + when(p.markedAt) : 'not marked yet', text: money(p.unrealizedPnl) }),
      el('td', { class: 'r num ' + sign(p.realizedPnl), text: money(p.realizedPnl) }),
      el('td', { class: 'r num', text: price(p.stopLoss) }), el('td', { class: 'r num', text: price(p.takeProfit) }),
      el('td', { class: 'muted', text: when(p.openedAt) }))));
    $('#positions-count').textContent = list.length + ' open';
  }
  function applyLivePosition(envelope) {
    const p = envelope.payload || {};
    if (!p.accountId || !p.instrument) return;
    const key = p.accountId + '|' + p.instrument;
    const before = state.positions.get(key) || {};
    // A new quantity or price makes the stored mark stale until the database is read again.
    const mark = num(before.quantity) === num(p.quantity) && num(before.averagePrice) === num(p.averagePrice)
      ? {} : { markPrice: null, unrealizedPnl: null, markedAt: null };
    if (!num(p.quantity)) state.positions.delete(key);
    else state.positions.set(key, Object.assign({}, before, mark, {
      accountId: p.accountId, instrument: p.instrument, quantity: p.quantity, averagePrice: p.averagePrice,
      realizedPnl: p.realizedPnL, side: num(p.quantity) > 0 ? 'long' : 'short' },
      // opened: the market time of the fill that opened it (µs), when the update carries it
      typeof p.openedAt === 'number' ? { openedAt: new Date(p.openedAt / 1000).toISOString() } : {}));
    renderPositions();
    debounce('positions', 2000, loadPositions);   // stop/target and opened-at come from the database
  }

  // ---- orders and the decision trail -------------------------------------------------------
  async function loadOrders() {
    const r = await api(q('/api/v1/orders?limit=50'));
    if (!r.ok || !r.body) return;
    state.orders = r.body.items;
    renderOrders();
  }
  function renderOrders() {
    const rows = [];
    for (const o of state.orders) {
      rows.push(el('tr', { class: 'clickable' + (o.id === state.expanded ? ' selected' : ''), data: { orderId: o.id, status: o.status },
        onclick: () => toggleTrail(o.id) },
        el('td', { class: 'muted', text: when(o.createdAt) }), el('td', { class: 'num', text: o.id }), el('td', { text: o.accountId }),
        el('td', { text: o.instrument }), el('td', { text: o.side + (o.riskReducing ? ' (reducing)' : '') }),
        el('td', { class: 'r num', text: qty(o.quantity) }), el('td', { class: 'r num', text: qty(o.filledQuantity) }),
        el('td', {}, badge(o.status))));
      if (o.id === state.expanded && state.trailNode) rows.push(state.trailNode);
    }
    $('#orders tbody').replaceChildren(...rows);
  }
  async function toggleTrail(id) {
    if (state.expanded === id) { state.expanded = null; state.trailNode = null; renderOrders(); return; }
    state.expanded = id;
    state.trailNode = el('tr', { class: 'trail-row' }, el('td', { colspan: 8 }, el('div', { id: 'trail', data: { orderId: id, state: 'loading' }, text: 'loading the decision trail…' })));
    renderOrders();
    const r = await api('/api/v1/orders/' + encodeURIComponent(id) + '/trail');
    if (state.expanded !== id) return;
    const box = r.ok && r.body ? renderTrail(id, r.body) : el('div', { id: 'trail', data: { orderId: id, state: 'error' }, text: 'trail unavailable: ' + (r.body && r.body.error ? r.body.error.message : r.status) });
    state.trailNode = el('tr', { class: 'trail-row' }, el('td', { colspan: 8 }, box));
    renderOrders();
    box.scrollIntoView({ block: 'nearest' });
  }
  function kv(obj) {
    const entries = Object.entries(obj || {}).filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object');
    if (!entries.length) return null;
    return el('dl', { class: 'kv' }, entries.map(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })]));
  }
  function checks(list) {
    if (!list || !list.length) return null;
    return el('ul', { class: 'checks' }, list.map((c) => el('li', { class: c.passed ? 'pass' : 'fail', data: { rule: c.rule, passed: c.passed } },
      (c.passed ? '✓ ' : '✗ ') + c.rule + (c.severity ? ' [' + c.severity + ']' : '') + (c.detail ? ': ' + c.detail : ''))));
  }
  function renderTrail(id, t) {
    const o = t.order || {};
    const stages = [];
    if (t.signal) {
      const sg = t.signal;
      stages.push(el('div', { class: 'stage', data: { stage: 'signal' } },
        el('h3', {}, el('span', { text: '1 · signal (wyckoff)' }), badge(sg.pattern || sg.side, 'ok')),
        kv({ id: sg.id, instrument: sg.instrument, side: sg.side, phase: sg.phase, entry: sg.entry, stop: sg.stopLoss, target: sg.takeProfit, confidence: sg.confidence })));
    }
    (t.decisions || []).forEach((d, i) => {
      stages.push(el('div', { class: 'stage', data: { stage: d.stage, verdict: d.verdict } },
        el('h3', {}, el('span', { text: (i + 2) + ' · ' + d.stage + ' (' + d.agent + ')' }), badge(d.verdict)),
        kv(d.figures), checks(d.checks), el('div', { class: 'muted small', text: 'decided ' + when(d.decidedAt / 1000) })));
    });
    if (t.compliance) {
      stages.push(el('div', { class: 'stage', data: { stage: 'compliance-record' } },
        el('h3', {}, el('span', { text: 'compliance record · ' + t.compliance.firm + ' · ' + t.compliance.mode }), badge(t.compliance.verdict)),
        checks(t.compliance.checks)));
    }
    if ((t.fills || []).length) {
      stages.push(el('div', { class: 'stage', data: { stage: 'fills' } }, el('h3', {}, el('span', { text: 'fills' }), badge(o.status)),
        t.fills.map((f) => kv({ at: when(f.filledAt), qty: f.quantity, price: f.price, spread: f.spread, slippage: f.slippage, commission: f.commission, pnl: f.realizedPnl }))));
    }
    const lat = t.latency || { hops: [] };
    const total = num(lat.endToEndMs) || 1;
    const t0 = lat.hops.length ? lat.hops[0].inMicros : 0;
    const hopBars = lat.hops.map((h) => {
      const start = (h.inMicros - t0) / 1000, proc = num(h.processingMs) || 0, transit = num(h.transitMs) || 0;
      return el('div', { class: 'hopbar', data: { hop: h.agent } },
        el('span', { class: 'lbl', text: h.agent }),
        el('span', { class: 'bars' },
          transit ? el('span', { class: 'transit', style: 'left:' + ((start - transit) / total * 100).toFixed(2) + '%;width:' + Math.max(0.3, transit / total * 100).toFixed(2) + '%' }) : null,
          el('span', { class: 'proc', style: 'left:' + (start / total * 100).toFixed(2) + '%;width:' + Math.max(0.3, proc / total * 100).toFixed(2) + '%' })),
        el('span', { class: 'num', text: fixed(proc, 2) + ' ms' + (h.transitMs !== null && h.transitMs !== undefined ? ' (+' + fixed(transit, 2) + ' transit)' : '') }));
    });
    return el('div', { id: 'trail', data: { orderId: id, state: 'loaded' } },
      el('div', {}, el('b', { text: o.id }), ' · ', o.accountId, ' · ', o.side, ' ', qty(o.quantity), ' ', o.instrument, ' · ', badge(o.status),
        ' · end to end ', el('b', { text: lat.endToEndMs === null || lat.endToEndMs === undefined ? '—' : fixed(lat.endToEndMs, 2) + ' ms' })),
      el('div', { class: 'stages' }, stages),
      hopBars.length ? el('div', { class: 'hops' }, el('div', { class: 'muted small', text: 'per-hop latency (blue: in the agent, grey: in transit)' }), hopBars) : null,
      (t.events || []).length ? el('div', { class: 'muted small', text: 'events: ' + t.events.map((e) => e.agent + ' ' + e.status + (e.processingMs !== null && e.processingMs !== undefined ? ' ' + fixed(e.processingMs, 2) + 'ms' : '')).join(' → ') }) : null);
  }

  // ---- breakers ------------------------------------------------------------------------------
  async function loadBreaker() {
    const r = await api('/api/v1/breaker?limit=20');
    const box = $('#breaker');
    if (!r.ok || !r.body) { box.replaceChildren(el('p', { class: 'neg', text: 'breaker state unavailable: ' + (r.body && r.body.error ? r.body.error.message : r.status) })); return; }
    const b = r.body;
    const ts = $('#trading-state');
    // ACTIVE, REDUCING (risk-reducing orders only) or HALTED, for every account alike (the
    // system breaker and the critical agents; an account's own breaker is in its row below).
    const tstate = b.tradingState || (b.tradingHalted ? 'HALTED' : 'ACTIVE');
    ts.textContent = 'trading: ' + tstate; ts.className = 'badge ' + tstate; ts.dataset.state = tstate;
    ts.title = ((b.tradingReasons || []).join('\n') || 'no system-wide restriction')
      + (b.snapshotAgeSeconds !== null && b.snapshotAgeSeconds !== undefined ? '\n(breaker snapshot ' + fixed(b.snapshotAgeSeconds, 0) + ' s old)' : '');
    const tiers = ['system', 'account', 'agent', 'instrument'];
    const parts = [];
    if (!b.snapshotAt) parts.push(el('p', { class: 'muted', text: 'the circuit breaker has not reported a state yet (fail closed: HALTED)' }));
    for (const tier of tiers) {
      const all = (b.breakers || []).filter((x) => x.tier === tier);
      // With an account selected, its own account breaker only (the others are counted).
      const list = tier === 'account' && state.filter ? all.filter((x) => x.target === state.filter) : all;
      if (!all.length) continue;
      parts.push(el('div', { class: 'tier', text: tier + ' (' + (list.length === all.length ? all.length : list.length + ' of ' + all.length) + ')' }));
      for (const x of list) {
        parts.push(el('div', { class: 'breaker-row', data: { breaker: x.tier + ':' + x.target, state: x.state } },
          badge(x.state + (x.awaitingData ? '?' : '')), el('span', { class: 'target', title: x.target, text: x.target || '(system)' }),
          el('span', { class: 'reason', title: x.reason || '', text: (x.manual ? 'manual · ' : '') + (x.reason || '') }),
          el('button', { type: 'button', class: 'small danger', onclick: () => command('trip', x.tier, x.target) }, 'trip'),
          el('button', { type: 'button', class: 'small', onclick: () => command('reset', x.tier, x.target) }, 'reset')));
      }
    }
    if ((b.events || []).length) {
      parts.push(el('div', { class: 'tier', text: 'recent transitions' }));
      parts.push(el('ol', { class: 'feed' }, b.events.slice(0, 10).map((e) => el('li', { title: e.reason },
        when(e.at) + ' ' + e.tier + ':' + e.target + ' ' + e.from + '→' + e.to + ' ' + (e.reason || '')))));
    }
    box.replaceChildren(...parts);
  }
  function token() {
    let t = $('#token').value.trim();
    if (!t) {
      t = (window.prompt('API token for breaker and experiment commands (kept for this tab only):') || '').trim();
      if (t) { $('#token').value = t; sessionStorage.setItem('tmt-api-token', t); }
    }
    return t;
  }
  // Staging commands on accounts, acknowledged by the agents that keep their state:
  // a new trading day (POST /api/v1/day/reset) for the account named with tier account, else every account;
  // a restart as a fresh challenge (POST /api/v1/accounts/restart) for the account named with tier account only.
  const accountCommands = {
    'new-day': { path: '/api/v1/day/reset', label: 'new day', everyAccount: true,
      ask: (who) => 'Start a new trading day now for ' + who + '? Daily P&L and daily limits restart from the current balance.' },
    'restart': { path: '/api/v1/accounts/restart', label: 'restart', everyAccount: false,
      ask: (who) => 'Restart ' + who + ' as a fresh challenge? Its working orders are cancelled, its positions dropped without fills, '
        + 'and balance, equity and high-water mark go back to the initial balance. Past orders and fills stay.' },
  };
  async function accountCommand(action, tier, target, reason) {
    const c = accountCommands[action];
    const out = $('#breaker-result');
    const accounts = tier === 'account' && target ? [target] : [];
    if (!accounts.length && !c.everyAccount) {
      out.dataset.status = 'error'; out.textContent = c.label + ': choose tier account and name the account'; return;
    }
    const who = accounts.length ? 'account ' + target : 'every account';
    if (!window.confirm(c.ask(who))) return;
    const t = token();
    if (!t) { out.dataset.status = 'error'; out.textContent = 'no token given: command not sent'; return; }
    out.dataset.status = 'pending'; out.textContent = c.label + ' for ' + (accounts.length ? target : 'every account') + ' …';
    const r = await api(c.path, { method: 'POST', body: JSON.stringify({ accounts, reason: reason || ('dashboard ' + c.label) }),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + t, 'X-Operator': 'dashboard' } });
    out.dataset.status = String(r.status || 'error');
    if (r.ok && r.body) {
      out.textContent = r.status + ' ' + c.label + ' · ' + r.body.acknowledgements.map((a) => a.agent + ': ' + a.detail).join(' · ') + ' · command ' + r.body.commandId;
    } else {
      out.textContent = r.status + ' ' + (r.body && r.body.error ? r.body.error.code + ': ' + r.body.error.message : 'request failed');
      if (r.status === 401 || r.status === 403) { sessionStorage.removeItem('tmt-api-token'); $('#token').value = ''; }
    }
    loadBreaker(); loadAccounts();
  }
  async function command(action, tier, target, reason) {
    if (accountCommands[action]) return accountCommand(action, tier, target, reason);
    const out = $('#breaker-result');
    if (action === 'flatten' && !window.confirm('Flatten every open position of ' + tier + (target ? ' ' + target : '') + '?')) return;
    const t = token();
    if (!t) { out.dataset.status = 'error'; out.textContent = 'no token given: command not sent'; return; }
    const body = { tier, reason: reason || ('dashboard ' + action) };
    if (tier !== 'system' && target) body.target = target;
    out.dataset.status = 'pending'; out.textContent = action + ' ' + tier + (target ? ':' + target : '') + ' …';
    const r = await api('/api/v1/breaker/' + action, { method: 'POST', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + t, 'X-Operator': 'dashboard' } });
    out.dataset.status = String(r.status || 'error');
    if (r.ok && r.body) {
      const st = r.body.breaker ? r.body.breaker.state : '?';
      out.textContent = r.status + ' ' + action + ' ' + r.body.tier + ':' + r.body.target + ' → ' + st + (r.body.tradingHalted ? ' (trading HALTED)' : '') + ' · command ' + r.body.commandId;
    } else {
      out.textContent = r.status + ' ' + (r.body && r.body.error ? r.body.error.code + ': ' + r.body.error.message : 'request failed');
      if (r.status === 401 || r.status === 403) { sessionStorage.removeItem('tmt-api-token'); $('#token').value = ''; }
    }
    loadBreaker();
  }

  // ---- improvement experiments ---------------------------------------------------------------
  async function loadExperiments() {
    const [p, r] = await Promise.all([api('/api/v1/proposals?limit=20'), api('/api/v1/experiments?status=rolling&limit=20')]);
    const table = $('#experiments');
    if (!p.ok || !r.ok || !p.body || !r.body) { table.dataset.state = 'error'; return; }
    const rows = (r.body.items || []).concat(p.body.items || []);
    const change = (e) => Object.keys(e.parameters || {}).sort().map((k) => k + ' ' + ((e.baseline || {})[k] || '?') + '→' + e.parameters[k]).join(', ');
    $('#experiments tbody').replaceChildren(...(rows.length ? rows.map((e) => el('tr', { data: { experimentId: e.id, status: e.status } },
      el('td', { text: when(e.createdAt) }), el('td', { class: 'mono', text: e.id }), el('td', { text: e.service }),
      el('td', {}, badge(e.status, e.status === 'rolling' ? 'warning' : '')), el('td', { class: 'small', text: change(e) }),
      el('td', { class: 'r num', text: fixed(e.pValue, 4) }), el('td', { class: 'r num', text: fixed(e.improvementPercent, 2) + '%' }),
      el('td', { class: 'r num', text: (e.rolloutPercent || 0) + '%' }),
      el('td', {}, e.status === 'pending' ? el('button', { type: 'button', data: { action: 'approve' }, text: 'Approve' }) : null, ' ',
        el('button', { type: 'button', class: 'danger', data: { action: 'stop' }, text: 'Stop' }))))
      : [el('tr', {}, el('td', { colspan: '9', class: 'muted', text: 'no proposals or rollouts' }))]));
    table.dataset.state = 'loaded';
  }
  async function experimentCommand(action, id) {
    const out = $('#experiment-result');
    if (action === 'stop' && !window.confirm('Stop experiment ' + id + '? Its accounts go back to the baseline.')) return;
    const t = token();
    if (!t) { out.dataset.status = 'error'; out.textContent = 'no token given: command not sent'; return; }
    out.dataset.status = 'pending'; out.textContent = action + ' ' + id + ' …';
    const r = await api('/api/v1/experiments/' + encodeURIComponent(id) + '/' + action, { method: 'POST',
      body: action === 'stop' ? JSON.stringify({ reason: 'stopped from the dashboard' }) : '',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + t, 'X-Operator': 'dashboard' } });
    out.dataset.status = String(r.status || 'error');
    if (r.ok && r.body) {
      out.textContent = r.status + ' ' + action + ' ' + id + ' → ' + r.body.status + ' at ' + (r.body.rolloutPercent || 0) + '%';
    } else {
      out.textContent = r.status + ' ' + (r.body && r.body.error ? r.body.error.code + ': ' + r.body.error.message : 'request failed');
      if (r.status === 401 || r.status === 403) { sessionStorage.removeItem('tmt-api-token'); $('#token').value = ''; }
    }
    loadExperiments();
  }

  // ---- compliance and latency ------------------------------------------------------------------
  async function loadCompliance() {
    const r = await api(q('/api/v1/compliance/violations?limit=20'));
    state.violations = r.ok && r.body ? r.body.items : [];
    renderWarnings();
  }
  function renderWarnings() {
    const parts = [];
    const limits = [];
    for (const a of state.accounts.values()) {
      if (state.filter && a.id !== state.filter) continue;
      const f = figures(a);
      for (const [name, l] of [['daily loss', f.dailyLoss], ['max loss', f.maxLoss]]) {
        if (l && l.status !== 'ok') limits.push(el('li', { data: { account: a.id, limit: name, status: l.status } }, badge(l.status), ' ', a.id + ' ' + name + ' at ' + fixed(l.usedPercent, 1) + '% of the allowed loss'));
      }
    }
    parts.push(limits.length ? el('ul', { class: 'warnlist' }, limits) : el('p', { class: 'muted', text: 'no account near a loss limit' }));
    const v = state.violations || [];
    if (v.length) {
      parts.push(el('div', { class: 'tier', text: 'recent compliance decisions with findings' }));
      parts.push(el('ul', { class: 'warnlist' }, v.map((d) => {
        const text = when(d.decidedAt) + ' ' + d.accountId + ' ' + d.orderId + ': ' + (d.violations || []).map((c) => c.rule + (c.detail ? ' (' + c.detail + ')' : '')).join('; ')
          + (d.beforeRestart ? ' (an earlier challenge: before the account was restarted)' : '');
        return el('li', { title: text, class: d.beforeRestart ? 'muted' : null, data: { orderId: d.orderId, verdict: d.verdict, earlier: d.beforeRestart ? 'true' : null } },
          badge(d.verdict), ' ', text);
      })));
    }
    $('#compliance').replaceChildren(...parts);
  }
  async function loadLatency() {
    const r = await api('/api/v1/latency?window=3600');
    if (!r.ok || !r.body) return;
    const rows = r.body.agents.slice();
    if (r.body.endToEnd && r.body.endToEnd.count) rows.push(Object.assign({ agent: 'end to end' }, r.body.endToEnd));
    const max = Math.max(1, ...rows.map((x) => num(x.p99Ms) || 0));
    $('#latency tbody').replaceChildren(...rows.map((x) => el('tr', { data: { agent: x.agent } },
      el('td', { text: x.agent }), el('td', { class: 'r num', text: x.count }),
      el('td', { class: 'r num', data: { field: 'p50' }, text: fixed(x.p50Ms, 2) }), el('td', { class: 'r num', data: { field: 'p95' }, text: fixed(x.p95Ms, 2) }),
      el('td', { class: 'r num', data: { field: 'p99' }, text: fixed(x.p99Ms, 2) }),
      el('td', { style: 'width:30%' }, el('div', { class: 'latbar', style: 'width:' + ((num(x.p99Ms) || 0) / max * 100).toFixed(1) + '%' })))));
  }

  // ---- live feed -----------------------------------------------------------------------------
  function setStatus(s, detail) {
    const e = $('#sse-status');
    if (e.dataset.state === s && !detail) return;
    e.dataset.state = s;
    e.textContent = s === 'connected' ? 'live' : s + (detail ? ' · ' + detail : '');
  }
  function touch() { state.lastMessage = Date.now(); }
  function summary(name, d) {
    const p = d.payload || d;
    switch (name) {
      case 'fill': return p.accountId + ' ' + p.side + ' ' + qty(p.quantity) + ' ' + p.instrument + ' @ ' + price(p.price);
      case 'account': return p.id + ' balance ' + money(p.balance) + ' equity ' + money(p.equity) + ' daily ' + money(p.dailyPnL);
      case 'position': return p.accountId + ' ' + p.instrument + ' qty ' + qty(p.quantity) + ' @ ' + price(p.averagePrice);
      case 'breaker': return (p.key ? (p.key.tier + ':' + p.key.target) : ((p.tier || '') + ':' + (p.target || ''))) + ' ' + (p.from || '') + '→' + (p.to || p.state || '') + ' ' + ((p.reason && p.reason.detail) || p.reason || '');
      case 'health': return 'health ' + d.status + (d.failing && d.failing.length ? ' (failing: ' + d.failing.join(', ') + ')' : '');
      default: return '';
    }
  }
  function onEvent(name, raw) {
    touch();
    let d;
    try { d = JSON.parse(raw); } catch (e) { return; }
    state.events += 1;
    const counter = $('#event-count');
    counter.textContent = String(state.events);
    counter.dataset[name] = String(Number(counter.dataset[name] || 0) + 1);   // per type, shown as the tooltip
    counter.title = ['fill', 'account', 'position', 'breaker', 'health'].map((n) => n + ' ' + (counter.dataset[n] || 0)).join(' · ');
    $('#last-event').textContent = clock(Date.now()) + ' ' + name;
    const feed = $('#events');
    feed.prepend(el('li', { data: { event: name } }, el('span', { class: 'ev', text: name }), clock(Date.now()) + ' ', summary(name, d)));
    while (feed.children.length > 50) feed.lastChild.remove();
    switch (name) {
      case 'account': applyLiveAccount(d); break;
      case 'position': applyLivePosition(d); break;
      case 'fill': debounce('orders', 1500, loadOrders); debounce('positions', 2000, loadPositions); break;
      case 'breaker': debounce('breaker', 500, loadBreaker); break;
      case 'health': renderHealth(d); debounce('agents', 500, loadAgents); break;
    }
  }
  function connect() {
    setStatus('connecting');
    const es = new EventSource('/api/v1/stream');
    state.source = es;
    es.onopen = () => { touch(); setStatus('connected'); };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) { setStatus('disconnected', 'retrying'); setTimeout(connect, 5000); }
      else setStatus('reconnecting');
    };
    es.addEventListener('hello', (e) => {
      touch();
      try { state.heartbeatSeconds = JSON.parse(e.data).heartbeatSeconds || 15; } catch (err) { /* keep the default */ }
      setStatus('connected');
      if (state.connectedOnce) refreshAll();   // resynchronise after a gap in the feed
      state.connectedOnce = true;
    });
    es.addEventListener('heartbeat', () => { touch(); setStatus('connected'); });
    for (const name of ['fill', 'account', 'position', 'breaker', 'health']) es.addEventListener(name, (e) => onEvent(name, e.data));
  }
  // Stale: the connection looks open but nothing (not even a heartbeat) arrived for 2.5 beats.
  setInterval(() => {
    const es = state.source;
    if (!es || es.readyState !== EventSource.OPEN) return;
    const age = (Date.now() - state.lastMessage) / 1000;
    if (age > state.heartbeatSeconds * 2.5) setStatus('stale', 'no data for ' + Math.round(age) + ' s'); else setStatus('connected');
  }, 1000);

  async function refreshAll() {
    await Promise.all([loadHealth(), loadAgents(), loadAccounts(), loadPositions(), loadOrders(), loadBreaker(), loadCompliance(), loadLatency(),
      loadExperiments()]);
    if (state.selected) selectChart(state.selected);
  }

  function init() {
    state.filter = new URL(location.href).searchParams.get('account') || '';
    if (state.filter) state.selected = state.filter;
    $('#token').value = sessionStorage.getItem('tmt-api-token') || '';
    $('#token').addEventListener('change', (e) => {
      const v = e.target.value.trim();
      if (v) sessionStorage.setItem('tmt-api-token', v); else sessionStorage.removeItem('tmt-api-token');
    });
    $('#account-filter').addEventListener('change', (e) => selectAccount(e.target.value));
    document.querySelectorAll('#breaker-form button').forEach((b) => b.addEventListener('click', () =>
      command(b.dataset.action, $('#breaker-tier').value, $('#breaker-target').value.trim(), $('#breaker-reason').value.trim())));
    $('#experiments').addEventListener('click', (e) => {
      const b = e.target.closest('button[data-action]');
      const row = b && b.closest('tr[data-experiment-id]');
      if (row) experimentCommand(b.dataset.action, row.dataset.experimentId);
    });
    connect();
    refreshAll().then(() => { document.body.dataset.loaded = 'true'; });
    setInterval(refreshAll, 30000);
  }
  init();
})();
"""#
}
