/// The Trading Dashboard's HTML. Elements tests and scripts read carry stable ids and `data-`
/// attributes: `#sse-status[data-state]`, `#event-count`, `#health [data-component]`,
/// `#accounts [data-account-id] [data-field]`, `#positions [data-position] [data-field]`,
/// `#orders [data-order-id]`, `#trail[data-order-id] [data-stage]`, `#breaker [data-breaker]`,
/// `#breaker-result[data-status]`, `#compliance`, `#latency [data-agent]`, `#equity-chart svg`,
/// `#agents[data-state] tr[data-agent-name][data-status] [data-field]`,
/// `#experiments[data-state] tr[data-experiment-id][data-status] button[data-action]`, `#experiment-result[data-status]`.
enum DashboardPage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TMT Trading Dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body data-loaded="false">
<header>
  <h1>TMT Trading Dashboard <span class="paper" title="Paper trading only: no real money">PAPER</span></h1>
  <div class="bar">
    <span id="sse-status" data-state="connecting" title="Live feed (Server-Sent Events)">connecting</span>
    <span class="muted">events <b id="event-count">0</b></span>
    <span class="muted">last <span id="last-event">—</span></span>
    <span id="trading-state" class="badge" data-state="unknown">trading: ?</span>
    <label>Account <select id="account-filter"><option value="">all accounts</option></select></label>
    <label>Token <input id="token" type="password" autocomplete="off" placeholder="API token (this tab only)"></label>
  </div>
</header>
<main>
  <section class="card wide">
    <h2>Agent health <span id="health-status" class="badge">?</span> <span id="health-checked" class="muted small"></span></h2>
    <div id="health" class="tiles"></div>
  </section>

  <section class="card wide">
    <h2>Agents <span id="agents-checked" class="muted small"></span></h2>
    <div class="scroll short">
      <table id="agents" data-state="loading">
        <thead><tr><th>Agent</th><th>Status</th><th>Version</th><th class="r">Uptime</th><th class="r">Consumer lag</th><th>Lag by topic</th>
          <th>Last error</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card wide">
    <h2>Accounts <span class="muted small">click a row to focus on that account (again to show all)</span></h2>
    <div class="scroll">
      <table id="accounts">
        <thead><tr><th>Account</th><th>Firm</th><th class="r">Balance</th><th class="r">Equity</th><th class="r">Daily P&amp;L</th>
          <th>Daily loss vs limit</th><th>Max loss vs floor</th><th class="r">Drawdown</th><th>Updated</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card">
    <h2>Equity curve <span id="equity-account" class="muted"></span></h2>
    <div id="equity-chart" class="chart"><p class="muted">select an account</p></div>
  </section>

  <section class="card">
    <h2>Circuit breakers</h2>
    <div id="breaker"></div>
    <form id="breaker-form" class="inline" autocomplete="off">
      <select id="breaker-tier"><option>system</option><option>account</option><option>agent</option><option>instrument</option></select>
      <input id="breaker-target" placeholder="target (not for system)">
      <input id="breaker-reason" placeholder="reason">
      <button type="button" data-action="trip" class="danger">Trip</button>
      <button type="button" data-action="reset">Reset</button>
      <button type="button" data-action="flatten" class="danger">Flatten</button>
      <button type="button" data-action="new-day" title="Start a new trading day now: the account named (tier account) or every account">New day</button>
      <button type="button" data-action="restart" title="Restart the account named (tier account) as a fresh challenge: initial balance, no positions">Restart account</button>
    </form>
    <div id="breaker-result" class="result" data-status=""></div>
  </section>

  <section class="card wide">
    <h2>Open positions <span id="positions-count" class="muted small"></span></h2>
    <div class="scroll short">
      <table id="positions">
        <thead><tr><th>Account</th><th>Instrument</th><th>Side</th><th class="r">Quantity</th><th class="r">Avg price</th>
          <th class="r" title="the price the position would close at (bid for a long, ask for a short) when the execution engine last marked it">Mark</th>
          <th class="r" title="unrealised P&amp;L at the mark, in the account's currency; marked at each fill and about every 5 s">Open P&amp;L</th>
          <th class="r" title="realised P&amp;L of every trade in this instrument in the account's current challenge, not only of the open position">Realized P&amp;L (instrument)</th><th class="r">Stop</th><th class="r">Target</th><th title="market time of the fill that opened the position">Opened</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card wide">
    <h2>Recent orders <span class="muted small">click an order for its decision trail</span></h2>
    <div class="scroll tall">
      <table id="orders">
        <thead><tr><th>Created</th><th>Order</th><th>Account</th><th>Instrument</th><th>Side</th><th class="r">Qty</th>
          <th class="r">Filled</th><th>Status</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
  </section>

  <section class="card wide">
    <h2>Improvement experiments <span class="muted small">proposals and rollouts; approve/stop need the token</span></h2>
    <div class="scroll short">
      <table id="experiments" data-state="loading">
        <thead><tr><th>Created</th><th>Experiment</th><th>Service</th><th>Status</th><th>Change</th><th class="r">p-value</th>
          <th class="r">Improvement</th><th class="r">Rollout</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <div id="experiment-result" class="result" data-status=""></div>
  </section>

  <section class="card">
    <h2>Compliance warnings</h2>
    <div id="compliance"></div>
  </section>

  <section class="card">
    <h2>Time in each agent <span class="muted small">last hour, ms; includes deliberate holds (human behaviour) and resting limit and stop orders (execution engine)</span></h2>
    <table id="latency">
      <thead><tr><th>Agent</th><th class="r">n</th><th class="r">p50</th><th class="r">p95</th><th class="r">p99</th><th></th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section class="card wide">
    <h2>Live events</h2>
    <ol id="events" class="feed"></ol>
  </section>
</main>
<footer class="muted small">Served by tmt-api-gateway. Data from the trading database and the live Kafka feed; breaker and experiment commands need the API token.</footer>
</body>
</html>
"""#
}
