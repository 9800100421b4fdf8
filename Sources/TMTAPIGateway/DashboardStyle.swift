/// The Trading Dashboard's stylesheet: a dark, dense layout readable on a laptop screen.
enum DashboardStyle {
    static let css = #"""
:root { --bg: #0f1419; --card: #171d24; --line: #2a333d; --text: #dde3ea; --muted: #8a96a3;
  --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #58a6ff; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { position: sticky; top: 0; z-index: 2; display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
  gap: 8px; padding: 8px 16px; background: #0b0f13; border-bottom: 1px solid var(--line); }
h1 { font-size: 16px; margin: 0; }
h2 { font-size: 13px; margin: 0 0 8px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
h2 .badge, h2 span { text-transform: none; letter-spacing: 0; }
.bar { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; }
.paper { font-size: 11px; padding: 1px 6px; border-radius: 3px; background: var(--warn); color: #000; vertical-align: middle; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px; padding: 12px 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; min-width: 0; }
.wide { grid-column: 1 / -1; }
footer { padding: 8px 16px 16px; }
.muted { color: var(--muted); } .small { font-size: 11px; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 4px 6px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { position: sticky; top: 0; background: var(--card); color: var(--muted); font-weight: 600; font-size: 12px; }
td.r, th.r { text-align: right; } td.num { font-family: var(--mono); }
td.mono { font-family: var(--mono); font-size: 12px; } td.err { color: #ffb0aa; max-width: 28em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
tbody tr:hover { background: #1e262f; }
tr.clickable { cursor: pointer; } tr.selected { background: #1c2a3a; }
.scroll { max-height: 300px; overflow: auto; } .scroll.short { max-height: 240px; } .scroll.tall { max-height: 720px; }
.pos { color: var(--ok); } .neg { color: var(--bad); }
.badge { display: inline-block; padding: 1px 7px; border-radius: 10px; background: var(--line); font-size: 12px; }
.badge.healthy, .badge.ok, .badge.normal, .badge.ACTIVE, .badge.filled, .badge.approved, .badge.cleared { background: #1f4d2b; color: #b4f0c0; }
.badge.warning, .badge.halfOpen, .badge.REDUCING, .badge.delayed, .badge.approvedWithWarnings, .badge.partiallyFilled { background: #5a4510; color: #f5d98a; }
.badge.unhealthy, .badge.breached, .badge.tripped, .badge.HALTED, .badge.rejected, .badge.blocked, .badge.cancelled { background: #5c1d1b; color: #ffc1bd; }
#sse-status { padding: 2px 8px; border-radius: 10px; background: var(--line); }
#sse-status::before { content: "\25CF  "; }
#sse-status[data-state="connected"] { background: #1f4d2b; color: #b4f0c0; }
#sse-status[data-state="stale"], #sse-status[data-state="reconnecting"], #sse-status[data-state="connecting"] { background: #5a4510; color: #f5d98a; }
#sse-status[data-state="disconnected"] { background: #5c1d1b; color: #ffc1bd; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px; }
.tile { border: 1px solid var(--line); border-left: 4px solid var(--muted); border-radius: 4px; padding: 5px 8px; min-width: 0; }
.tile.healthy { border-left-color: var(--ok); } .tile.unhealthy { border-left-color: var(--bad); }
.tile .name { font-weight: 600; } .tile .meta { color: var(--muted); font-size: 11px; }
.tile .err { color: #ffb0aa; font-size: 11px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.meter { position: relative; width: 150px; height: 14px; background: #0b0f13; border: 1px solid var(--line); border-radius: 3px; }
.meter > span { position: absolute; left: 0; top: 0; bottom: 0; background: var(--ok); border-radius: 2px; }
.meter.warning > span { background: var(--warn); } .meter.breached > span { background: var(--bad); }
.meter > em { position: absolute; right: 4px; top: -1px; font-style: normal; font-size: 11px; }
.chart svg { width: 100%; height: auto; display: block; }
.chart .equity { fill: none; stroke: var(--accent); stroke-width: 2; }
.chart .balance { fill: none; stroke: #a371f7; stroke-width: 1.5; stroke-dasharray: 4 3; }
.chart .floor { stroke: var(--bad); stroke-width: 1; stroke-dasharray: 6 4; }
.chart .daily { stroke: var(--warn); stroke-width: 1; stroke-dasharray: 6 4; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart text { fill: var(--muted); font-size: 11px; font-family: var(--mono); }
.legend { display: flex; gap: 12px; font-size: 11px; color: var(--muted); }
.legend i { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 4px; }
form.inline { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
input, select, button { background: #0b0f13; color: var(--text); border: 1px solid var(--line); border-radius: 4px; padding: 4px 8px; font: inherit; }
button { cursor: pointer; } button:hover { border-color: var(--accent); }
button.danger { border-color: #7a2a27; } button.small { padding: 1px 6px; font-size: 11px; }
.result { margin-top: 6px; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; word-break: break-word; }
.result[data-status^="2"] { color: #b4f0c0; } .result[data-status^="4"], .result[data-status^="5"], .result[data-status="error"] { color: #ffb0aa; }
.breaker-row { display: flex; gap: 8px; align-items: center; padding: 3px 0; border-bottom: 1px solid var(--line); }
.breaker-row .target { font-family: var(--mono); min-width: 140px; overflow: hidden; text-overflow: ellipsis; }
.breaker-row .reason { flex: 1; color: var(--muted); font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tier { margin: 6px 0 2px; color: var(--muted); font-size: 11px; text-transform: uppercase; }
tr.trail-row > td { background: #10161c; white-space: normal; padding: 8px 10px 12px; }
#trail .stages { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 8px; margin: 6px 0; }
#trail .stage { border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px; }
#trail .stage h3 { margin: 0 0 4px; font-size: 12px; display: flex; justify-content: space-between; gap: 6px; }
#trail .kv { display: grid; grid-template-columns: auto 1fr; gap: 0 8px; font-size: 12px; }
#trail .kv dt { color: var(--muted); } #trail .kv dd { margin: 0; font-family: var(--mono); word-break: break-all; }
#trail ul.checks { list-style: none; margin: 4px 0 0; padding: 0; font-size: 12px; }
#trail ul.checks li.fail { color: #ffb0aa; } #trail ul.checks li.pass { color: #b4f0c0; }
.hopbar { display: flex; align-items: center; gap: 6px; font-size: 12px; }
.hopbar .lbl { width: 150px; color: var(--muted); } .hopbar .bars { flex: 1; position: relative; height: 12px; }
.hopbar .bars span { position: absolute; top: 0; bottom: 0; border-radius: 2px; }
.hopbar .bars .transit { background: #39424d; } .hopbar .bars .proc { background: var(--accent); }
.latbar { height: 8px; background: var(--accent); border-radius: 2px; min-width: 1px; }
ol.feed { list-style: none; margin: 0; padding: 0; max-height: 220px; overflow: auto; font-family: var(--mono); font-size: 12px; }
ul.warnlist li { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
ol.feed li { padding: 2px 0; border-bottom: 1px solid var(--line); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
ol.feed .ev { display: inline-block; width: 70px; color: var(--accent); }
.warnlist li { margin-bottom: 4px; } .warnlist { padding-left: 16px; margin: 0; }
"""#
}
