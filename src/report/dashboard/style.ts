/** The dashboard's stylesheet, inlined into the page (no CDN, no web fonts: works offline). */
export const DASHBOARD_CSS = `
:root {
  --bg: #f4f5f7; --card: #ffffff; --ink: #1d2733; --muted: #5f6b7a; --faint: #8a95a3; --line: #e3e7ec;
  --ok: #2f8f6f; --ok-soft: #dff1ea; --warn: #c98412; --warn-soft: #fbf0d9; --bad: #c23b30; --bad-soft: #fbe3e0;
  --nyv: #5468c7; --nyv-soft: #e4e8fa; --grey: #7d8794; --shade: rgba(201, 132, 18, 0.10); --now: #1d2733;
  --accent: #2d5fa8; --radius: 10px;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  color-scheme: light;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #14181d; --card: #1c2128; --ink: #e6eaef; --muted: #a3adb9; --faint: #7c8794; --line: #2c333c;
    --ok-soft: #173a2f; --warn-soft: #3b2e12; --bad-soft: #3f1d1a; --nyv-soft: #22284a; --shade: rgba(201,132,18,0.16); --now: #e6eaef; --accent: #7aa7e8; color-scheme: dark; }
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--ink); }
body { font-size: 15px; line-height: 1.45; -webkit-text-size-adjust: 100%; }
a { color: var(--accent); }
button { font: inherit; color: inherit; }
.top { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; padding: 14px 24px; background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5; }
.brand { font-weight: 700; letter-spacing: .2px; }
.brand span { color: var(--faint); font-weight: 500; }
.where { color: var(--muted); font-size: 14px; overflow-wrap: anywhere; }
.live { margin-left: auto; font-size: 13px; color: var(--muted); display: flex; align-items: center; gap: 6px; }
.live .pulse { width: 8px; height: 8px; border-radius: 50%; background: var(--ok); display: inline-block; }
.live.lost .pulse { background: var(--bad); }
.live.file .pulse { background: var(--grey); }
main { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
.headline { font-size: 20px; font-weight: 650; margin: 2px 0 14px; }
.headline.bad { color: var(--bad); } .headline.warn { color: var(--warn); } .headline.ok { color: var(--ok); }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin-bottom: 18px; }
.stat { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 10px 14px; min-width: 120px; }
.stat b { display: block; font-size: 22px; line-height: 1.2; }
.stat small { color: var(--muted); font-size: 13px; }
.stat.bad b { color: var(--bad); } .stat.warn b { color: var(--warn); } .stat.ok b { color: var(--ok); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px 18px; margin-bottom: 18px; }
.card h2 { font-size: 15px; margin: 0 0 10px; font-weight: 650; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.card h2 small { font-weight: 400; color: var(--muted); font-size: 13px; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 18px; }
.grid2 > .card { margin-bottom: 0; }
.legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12.5px; color: var(--muted); margin-bottom: 8px; }
.legend i { display: inline-block; width: 14px; height: 9px; border-radius: 3px; vertical-align: middle; margin-right: 5px; }
/* timeline */
.tl-head { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: baseline; justify-content: space-between; margin-bottom: 4px; }
.tl-head h2 { margin-bottom: 6px; }
.tools { display: flex; gap: 8px; align-items: center; }
.tools input { font: inherit; font-size: 13.5px; padding: 5px 10px; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); color: var(--ink); width: 250px; }
.btn { font-size: 13px; padding: 5px 11px; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); cursor: pointer; white-space: nowrap; }
.btn[aria-pressed="true"] { background: var(--bad-soft); color: var(--bad); border-color: var(--bad); }
.tl-more { padding: 10px 0 2px; text-align: center; border-top: 1px solid var(--line); }
.tl { --label: 300px; }
.tl-axis, .tl-row { display: grid; grid-template-columns: var(--label) minmax(0, 1fr); align-items: center; }
.tl-axis { height: 26px; font-size: 12px; color: var(--faint); }
.tl-axis .track { height: 26px; }
.tick { position: absolute; top: 4px; transform: translateX(-50%); white-space: nowrap; }
.tick.now { color: var(--now); font-weight: 650; }
.tl-row { min-height: 38px; border-top: 1px solid var(--line); cursor: pointer; }
.tl-row:hover, .tl-row:focus-visible { background: color-mix(in srgb, var(--accent) 6%, transparent); outline: none; }
.tl-row.selected { background: color-mix(in srgb, var(--accent) 10%, transparent); }
.label { padding: 5px 12px 5px 4px; min-width: 0; }
.label .nm { font-weight: 600; font-size: 14px; display: flex; align-items: center; gap: 7px; }
.label .sub { display: block; color: var(--faint); font-size: 12px; font-family: var(--mono); white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.track { position: relative; height: 38px; }
.shade { position: absolute; top: 0; bottom: 0; background: var(--shade); }
.nowline { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: var(--now); opacity: .75; z-index: 2; }
.bar { position: absolute; top: 11px; height: 16px; border-radius: 4px; background: var(--ok); min-width: 3px; z-index: 1; }
.bar.ca { height: 16px; opacity: .8; }
.bar .wz { position: absolute; top: 0; bottom: 0; right: 0; background: rgba(255,255,255,.35); border-left: 1px dashed rgba(255,255,255,.8); border-radius: 0 4px 4px 0; }
.bar.warning { background: var(--warn); }
.bar.expired { background: repeating-linear-gradient(135deg, var(--bad) 0 6px, #9e2a21 6px 10px); box-shadow: 0 0 0 2px var(--bad-soft); }
.bar.not-yet-valid { background: var(--nyv); }
.bar.invalid { background: var(--grey); }
.bar.open-left { border-top-left-radius: 0; border-bottom-left-radius: 0; }
.bar.open-right { border-top-right-radius: 0; border-bottom-right-radius: 0; }
.bar.open-right::after { content: ""; position: absolute; right: -7px; top: 0; border: 8px solid transparent; border-left: 7px solid currentColor; border-right: 0; color: inherit; opacity: 0; }
.when { position: absolute; top: 10px; font-size: 12px; white-space: nowrap; color: var(--muted); z-index: 3; padding: 0 6px; }
.when.bad { color: var(--bad); font-weight: 650; }
.when.warn { color: var(--warn); font-weight: 650; }
.when-sub { font-family: system-ui, sans-serif; font-weight: 600; color: var(--muted); }
.when-sub.bad { color: var(--bad); } .when-sub.warn { color: var(--warn); }
.badge { display: inline-block; font-size: 11.5px; font-weight: 650; padding: 1px 7px; border-radius: 999px; letter-spacing: .2px; white-space: nowrap; }
.badge.ok { background: var(--ok-soft); color: var(--ok); }
.badge.warning, .badge.warn { background: var(--warn-soft); color: var(--warn); }
.badge.expired, .badge.error, .badge.bad { background: var(--bad-soft); color: var(--bad); }
.badge.not-yet-valid, .badge.info { background: var(--nyv-soft); color: var(--nyv); }
.badge.invalid { background: var(--line); color: var(--muted); }
.badge.ca { background: var(--line); color: var(--muted); }
.dot { width: 9px; height: 9px; border-radius: 50%; display: inline-block; flex: none; background: var(--ok); }
.dot.warning { background: var(--warn); } .dot.expired { background: var(--bad); } .dot.not-yet-valid { background: var(--nyv); } .dot.invalid { background: var(--grey); }
/* trust tree */
.tree, .tree ul { list-style: none; margin: 0; padding: 0; }
.tree ul { margin-left: 10px; padding-left: 16px; border-left: 2px solid var(--line); }
.tree li { margin: 2px 0; }
.tnode { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 8px; padding: 5px 8px; border-radius: 8px; cursor: pointer; }
.tnode:hover, .tnode:focus-visible { background: color-mix(in srgb, var(--accent) 7%, transparent); outline: none; }
.tnode .nm { font-weight: 600; }
.tnode.ca > .nm { font-size: 15px; }
.tnode .meta { color: var(--muted); font-size: 12.5px; }
.chip { font-size: 11.5px; padding: 1px 7px; border-radius: 6px; background: var(--bg); border: 1px solid var(--line); color: var(--muted); white-space: nowrap; }
.group-note { color: var(--muted); font-size: 13px; margin: 10px 0 4px; }
/* findings */
.findings { list-style: none; margin: 0; padding: 0; }
.findings li { display: grid; grid-template-columns: 70px minmax(0, 1fr); gap: 4px 10px; padding: 8px 4px; border-top: 1px solid var(--line); }
.findings li:first-child { border-top: 0; }
.findings li.link { cursor: pointer; }
.findings li.link:hover { background: color-mix(in srgb, var(--accent) 6%, transparent); }
.findings .code { font-family: var(--mono); font-size: 12px; color: var(--muted); }
.findings .file { font-family: var(--mono); font-size: 12px; color: var(--faint); overflow-wrap: anywhere; }
.empty { color: var(--muted); font-size: 14px; padding: 6px 0; }
.missing { margin-top: 12px; font-size: 13px; color: var(--muted); }
.missing code { font-family: var(--mono); font-size: 12px; }
/* detail panel */
.scrim { position: fixed; inset: 0; background: rgba(16, 22, 30, .28); z-index: 20; }
.panel { position: fixed; top: 0; right: 0; bottom: 0; width: min(520px, 100vw); background: var(--card); z-index: 21; box-shadow: -8px 0 30px rgba(0,0,0,.15); display: flex; flex-direction: column; }
.panel[hidden], .scrim[hidden] { display: none; }
.panel header { display: flex; align-items: flex-start; gap: 10px; padding: 16px 18px 12px; border-bottom: 1px solid var(--line); }
.panel header h3 { margin: 0; font-size: 18px; overflow-wrap: anywhere; }
.panel header .sub { color: var(--muted); font-size: 13px; margin-top: 2px; }
.panel .close { margin-left: auto; border: 1px solid var(--line); background: var(--bg); border-radius: 8px; padding: 4px 10px; cursor: pointer; }
.panel .body { overflow: auto; padding: 6px 18px 28px; }
.panel h4 { font-size: 12px; text-transform: uppercase; letter-spacing: .6px; color: var(--faint); margin: 16px 0 6px; }
.kv { display: grid; grid-template-columns: 132px minmax(0, 1fr); gap: 5px 12px; margin: 0; font-size: 14px; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; overflow-wrap: anywhere; }
.mono { font-family: var(--mono); font-size: 12.5px; }
.life { height: 8px; border-radius: 4px; background: var(--line); position: relative; margin: 8px 0 2px; overflow: hidden; }
.life span { position: absolute; top: 0; bottom: 0; left: 0; background: var(--ok); }
.life.warning span { background: var(--warn); } .life.expired span { background: var(--bad); }
pre.pem { font-family: var(--mono); font-size: 11.5px; background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 10px; overflow: auto; max-height: 260px; }
details summary { cursor: pointer; color: var(--accent); font-size: 14px; }
.linkish { color: var(--accent); cursor: pointer; text-decoration: underline; background: none; border: 0; padding: 0; }
footer { color: var(--faint); font-size: 12px; text-align: center; padding: 12px; }
@media (max-width: 900px) {
  .grid2 { grid-template-columns: minmax(0, 1fr); }
  .grid2 > .card { margin-bottom: 18px; }
}
@media (max-width: 640px) {
  body { font-size: 14px; }
  .top { padding: 10px 14px; gap: 4px 10px; position: static; }
  .findings li { grid-template-columns: minmax(0, 1fr); gap: 3px; }
  .tree ul { margin-left: 4px; padding-left: 10px; }
  .live { margin-left: 0; width: 100%; }
  main { padding: 14px 12px 40px; }
  .headline { font-size: 17px; }
  .stat { min-width: 0; flex: 1 1 calc(50% - 10px); padding: 8px 10px; }
  .stat b { font-size: 19px; }
  .card { padding: 12px 12px; }
  .tl-axis, .tl-row { grid-template-columns: minmax(0, 1fr); }
  .tools { width: 100%; }
  .tools input { flex: 1; width: auto; min-width: 0; }
  .tl-axis .label { display: none; }
  .tl-row { padding-top: 4px; }
  .label { padding: 2px 2px 0; }
  .track { height: 30px; }
  .bar { top: 7px; height: 14px; }
  .when { top: 6px; }
  .kv { grid-template-columns: 104px minmax(0, 1fr); font-size: 13.5px; }
  .panel { width: 100vw; }
}
@media print { .top { position: static; } .scrim, .panel { display: none !important; } }
`;
