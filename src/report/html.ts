/**
 * The dashboard page: one self-contained HTML string (inline CSS and JS, no
 * CDN, no fonts to fetch), so it works offline and can be attached to a
 * ticket. The Inventory is embedded as JSON; in served mode the page also
 * polls `api/inventory` and re-renders in place.
 *
 * Pure: no I/O, no clock. The page shows times relative to `inventory.now`.
 */
import type { Inventory } from '../inventory/types.js';
import { DASHBOARD_CSS } from './dashboard/style.js';
import { dashboardClient } from './dashboard/client.js';

export interface DashboardOptions {
  /** `served` polls the API; `file` is a snapshot (a CSP forbids any network request). */
  mode: 'served' | 'file';
  /** seconds between polls in served mode */
  pollSeconds?: number;
  /** path of the inventory API relative to the page (default `api/inventory`) */
  apiPath?: string;
  title?: string;
  /** embed the inventory in the page (default true); served pages of huge nodes fetch it instead */
  embed?: boolean;
}

/** JSON safe to put inside a `<script type="application/json">`. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** The Content-Security-Policy the page is built to run under. */
export function dashboardCsp(mode: DashboardOptions['mode']): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    "script-src 'unsafe-inline'",
    "img-src data:",
    mode === 'served' ? "connect-src 'self'" : "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function renderDashboardHtml(inventory: Inventory, options: DashboardOptions = { mode: 'file' }): string {
  const title = options.title ?? `kubepki · ${inventory.nodeName ?? inventory.root} · certificates`;
  const config = { mode: options.mode, pollSeconds: options.pollSeconds ?? 10, apiPath: options.apiPath ?? 'api/inventory' };
  // The file snapshot carries its CSP in a meta tag (no server to send the header):
  // it guarantees the page never reaches the network.
  const csp = options.mode === 'file' ? `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(dashboardCsp('file'))}">\n` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${csp}<meta name="generator" content="kubepki">
<title>${escapeHtml(title)}</title>
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header class="top">
  <div class="brand">kubepki <span>certificates</span></div>
  <div class="where"><b id="node"></b> · <span id="where"></span></div>
  <div id="live" class="live"></div>
</header>
<main>
  <div id="headline" class="headline"></div>
  <section id="summary" class="summary" aria-label="summary"></section>
  <section class="card tl" aria-labelledby="tl-h">
    <div class="tl-head"><h2 id="tl-h">Validity timeline <small id="tl-count"></small></h2>
      <div class="tools"><input id="filter" type="search" placeholder="Filter certificates" aria-label="Filter certificates by name, file, subject, serial or component"><button id="problems" type="button" class="btn" aria-pressed="false">Problems only</button></div></div>
    <div class="legend"><span><i style="background:var(--ok)"></i>valid</span><span><i style="background:var(--warn)"></i>expiring</span><span><i style="background:repeating-linear-gradient(135deg,var(--bad) 0 3px,#9e2a21 3px 5px)"></i>expired</span><span><i style="background:var(--nyv)"></i>not yet valid</span><span><i style="background:var(--shade);border:1px solid var(--warn)"></i>warning window</span><span><i style="background:var(--now);width:2px"></i>now</span></div>
    <div id="timeline"></div>
  </section>
  <div class="grid2">
    <section class="card" aria-labelledby="tree-h"><h2 id="tree-h">Trust tree <small>CA → certificates it signed, with the components that read each</small></h2><div id="tree"></div></section>
    <section class="card" aria-labelledby="f-h"><h2 id="f-h">Findings <small id="f-count"></small></h2><div id="findings"></div><div id="missing"></div></section>
  </div>
</main>
<footer>kubepki · private keys are never shown or sent · times in UTC relative to the read time</footer>
<div id="scrim" class="scrim" hidden></div>
<aside id="panel" class="panel" hidden role="dialog" aria-modal="true" aria-labelledby="panel-title">
  <header><div><h3 id="panel-title"></h3><div id="panel-sub" class="sub"></div></div><button id="panel-close" class="close" type="button" aria-label="Close">Close</button></header>
  <div id="panel-body" class="body"></div>
</aside>
<script type="application/json" id="kubepki-config">${jsonForScript(config)}</script>
<script type="application/json" id="kubepki-inventory">${options.embed === false && options.mode === 'served' ? 'null' : jsonForScript(inventory)}</script>
<script>(${dashboardClient.toString()})();</script>
</body>
</html>
`;
}
