/**
 * The dashboard's browser code. It is one self-contained function: the page
 * embeds `(${dashboardClient.toString()})()` inline, so it must not refer to
 * anything outside its own body (no imports, no module-level names).
 *
 * It renders everything from the Inventory JSON (embedded in the page, and in
 * served mode re-fetched from `api/inventory` every few seconds). Every time
 * shown is relative to the inventory's own `now`, never the browser clock, so
 * a report written with `--now` reads the same later.
 */
/* eslint-disable */
export function dashboardClient(): void {
  type Any = any;
  const DAY = 86400;
  const cfgEl = document.getElementById('kubepki-config');
  const cfg: Any = cfgEl ? JSON.parse(cfgEl.textContent || '{}') : {};
  let inv: Any = JSON.parse((document.getElementById('kubepki-inventory') as HTMLElement).textContent || 'null');
  let lastText = '';
  let selected: string | null = null;
  let lastOk = Date.now();
  let rowLimit = 500;
  let etag = '';

  const $ = (id: string) => document.getElementById(id) as HTMLElement;
  const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' } as Any)[c]);
  const pad = (n: number) => String(n).padStart(2, '0');
  const fmtDate = (iso: string) => { const d = new Date(iso); return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`; };
  const fmtTime = (iso: string) => { const d = new Date(iso); return `${fmtDate(iso)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`; };
  function fmtDur(sec: number): string {
    const a = Math.abs(sec);
    if (a < 2 * 3600) return `${Math.round(a / 60)} min`;
    if (a < 2 * DAY) return `${Math.round(a / 3600)} h`;
    if (a < 730 * DAY) return `${Math.round(a / DAY)} d`;
    return `${(a / (365.25 * DAY)).toFixed(a < 3650 * DAY ? 1 : 0)} y`;
  }
  function remaining(c: Any): string {
    if (c.status === 'not-yet-valid') return `valid in ${fmtDur((Date.parse(c.notBefore) - Date.parse(inv.now)) / 1000)}`;
    return c.residualSeconds < 0 ? `expired ${fmtDur(c.residualSeconds)} ago` : `${fmtDur(c.residualSeconds)} left`;
  }
  /**
   * warn threshold in seconds for a certificate: `30d`, `720h`, `66%` of lifetime elapsed — as check judged it
   * (warnFrom: N% of the lifetime it was issued with, which is not notAfter − notBefore for a kubeadm leaf
   * that starts at its CA's notBefore), else from inv.warn.
   */
  function warnSeconds(c: Any): number {
    if (c.warnFrom && c.notAfter) return Math.max(0, (Date.parse(c.notAfter) - Date.parse(c.warnFrom)) / 1000);
    const w = String(inv.warn || '30d').trim();
    const pm = /^(\d+(?:\.\d+)?)\s*%$/.exec(w);
    if (pm) return c.lifetimeSeconds * (1 - Number(pm[1]) / 100);
    const units: Any = { s: 1, m: 60, h: 3600, d: DAY, w: 7 * DAY, y: 365 * DAY };
    let total = 0;
    for (const m of w.matchAll(/(\d+(?:\.\d+)?)([smhdwy])/g)) total += Number(m[1]) * units[m[2]];
    return total > 0 ? total : 30 * DAY;
  }
  const warnIsPercent = () => /%\s*$/.test(String(inv.warn || ''));
  const statusWord: Any = { ok: 'ok', warning: 'expiring', expired: 'expired', 'not-yet-valid': 'not yet valid', invalid: 'invalid' };
  const byId = () => new Map<string, Any>(inv.certificates.map((c: Any) => [c.id, c]));

  function renderHeader() {
    $('node').textContent = inv.nodeName ? `node ${inv.nodeName}` : `root ${inv.root}`;
    $('where').textContent = `${inv.layouts.join(' + ') || 'no known layout'} · read ${fmtTime(inv.now)} · warn ${inv.warn}`;
    const s = inv.summary;
    const certs: Any[] = inv.certificates;
    const next = certs.filter((c) => c.residualSeconds >= 0).sort((a, b) => a.residualSeconds - b.residualSeconds)[0];
    const errs = inv.findings.filter((f: Any) => f.severity === 'error').length;
    let head = '';
    let cls = 'ok';
    if (s.expired > 0) { head = `${s.expired} of ${s.certificates} certificate${s.certificates === 1 ? '' : 's'} expired — components using ${s.expired === 1 ? 'it' : 'them'} are failing or will fail on restart.`; cls = 'bad'; }
    else if (s.invalid > 0 || s.notYetValid > 0) { head = `${s.invalid + s.notYetValid} certificate${s.invalid + s.notYetValid === 1 ? ' is' : 's are'} not usable right now.`; cls = 'bad'; }
    else if ((inv.missing ?? []).length > 0) { const m: Any[] = inv.missing; head = `${m.map((x) => x.file).join(', ')} ${m.length === 1 ? 'is' : 'are'} ${m.every((x) => x.state === 'unreadable') ? 'unreadable' : m.some((x) => x.state === 'unreadable') ? 'missing or unreadable' : 'missing'} — the components that read ${m.length === 1 ? 'it' : 'them'} cannot start.`; cls = 'bad'; }
    else if (errs > 0) { head = `${errs} problem${errs === 1 ? '' : 's'} to fix (see Findings), though no certificate has expired.`; cls = 'bad'; }
    else if (s.warning > 0) { head = `${s.warning} certificate${s.warning === 1 ? '' : 's'} expire${s.warning === 1 ? 's' : ''} within the warning window (${inv.warn}).`; cls = 'warn'; }
    else if (s.certificates === 0) { head = 'No certificates found under this root.'; cls = 'warn'; }
    else head = `All ${s.certificates} certificates are valid beyond the warning window (${inv.warn}).`;
    // what to do next, in the operator's words: the inventory's own advice, which check prints as Next
    // (the page and the inventory come from the same kubepki: readInventory always sets it)
    if (inv.next) head += ` Next: ${inv.next}.`;
    $('headline').className = `headline ${cls}`;
    $('headline').textContent = head;
    const stat = (n: Any, label: string, c = '') => `<div class="stat ${c}"><b>${esc(n)}</b><small>${esc(label)}</small></div>`;
    $('summary').innerHTML = [
      stat(s.certificates, 'certificates'),
      stat(s.expired, 'expired', s.expired ? 'bad' : ''),
      stat(s.warning, `expiring within ${inv.warn}`, s.warning ? 'warn' : ''),
      stat(s.ok, 'ok', 'ok'),
      s.notYetValid + s.invalid ? stat(s.notYetValid + s.invalid, 'not yet valid / invalid', 'bad') : '',
      stat(errs, `finding${errs === 1 ? '' : 's'} to fix`, errs ? 'bad' : ''),
      next ? stat(fmtDur(next.residualSeconds), `until ${next.name} expires`, next.status === 'warning' ? 'warn' : '') : '',
    ].join('');
  }

  function domain(trackPx: number): [number, number] {
    const now = Date.parse(inv.now);
    const certs: Any[] = inv.certificates;
    const leaves = certs.filter((c) => !c.authority);
    const pool = leaves.length ? leaves : certs;
    let lo = Math.min(now - 30 * DAY * 1000, ...pool.map((c) => Date.parse(c.notBefore)));
    let hi = Math.max(now + 60 * DAY * 1000, ...pool.map((c) => Date.parse(c.notAfter)));
    // long-lived certificates (CAs, 100-year Rancher leaves) must not squash the rest
    lo = Math.max(lo, now - 3 * 365 * DAY * 1000);
    hi = Math.min(hi, now + 4 * 365 * DAY * 1000);
    const span = hi - lo;
    // room on the right for the "365 d left" label after the last bar (~125 px)
    const k = Math.max(0.1, 125 / Math.max(trackPx - 125, 100));
    return [lo - span * 0.02, hi + span * k];
  }

  function ticks(lo: number, hi: number): { t: number; label: string }[] {
    const out: { t: number; label: string }[] = [];
    const years = (hi - lo) / (365 * DAY * 1000);
    const d = new Date(lo);
    const stepMonths = years > 5 ? 12 : years > 2.5 ? 6 : years > 1.2 ? 3 : 1;
    let y = d.getUTCFullYear();
    let m = Math.ceil((d.getUTCMonth() + 1) / stepMonths) * stepMonths;
    const names = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    for (let i = 0; i < 200; i++) {
      if (m >= 12) { y += Math.floor(m / 12); m %= 12; }
      const t = Date.UTC(y, m, 1);
      if (t > hi) break;
      if (t >= lo) out.push({ t, label: m === 0 ? String(y) : stepMonths >= 6 ? `${names[m]} ${String(y).slice(2)}` : names[m] });
      m += stepMonths;
    }
    return out;
  }

  function renderTimeline() {
    const narrowView = window.matchMedia('(max-width: 640px)').matches;
    // keep tick labels apart from each other and from the "now" label, in pixels
    const trackPx = Math.max(200, ($('timeline').clientWidth || 900) - (narrowView ? 0 : 300));
    const [lo, hi] = domain(trackPx);
    const now = Date.parse(inv.now);
    const pct = (t: number) => ((Math.min(Math.max(t, lo), hi) - lo) / (hi - lo)) * 100;
    const all: Any[] = [...inv.certificates].sort((a, b) => Date.parse(a.notAfter) - Date.parse(b.notAfter) || a.name.localeCompare(b.name));
    const q = (($('filter') as HTMLInputElement).value || '').trim().toLowerCase();
    const problemsOnly = $('problems').getAttribute('aria-pressed') === 'true';
    const matching = all.filter((c) => (!problemsOnly || c.status !== 'ok') && (!q || [c.name, c.location.file, c.location.via, c.subject, c.issuer, c.serial, ...(c.components || [])].some((x) => String(x || '').toLowerCase().includes(q))));
    // a node with thousands of certificates: draw the soonest ones, the rest on request
    const certs = matching.slice(0, rowLimit);
    const nowP = pct(now);
    const narrow = narrowView;
    const gapPct = (px: number) => (px / trackPx) * 100;
    const nowLabel = narrow ? 'now' : `now · ${fmtDate(inv.now)}`;
    const allTicks = ticks(lo, hi).filter((t) => Math.abs(pct(t.t) - nowP) > gapPct(narrow ? 44 : 90));
    const tk: { t: number; label: string }[] = [];
    for (const t of allTicks) if (!tk.length || pct(t.t) - pct(tk[tk.length - 1].t) > gapPct(narrow ? 48 : 58)) tk.push(t);
    const tkStep = 1;
    const globalShade = !warnIsPercent();
    const shadeW = globalShade ? pct(now + warnSeconds({}) * 1000) - nowP : 0;
    const axis = `<div class="tl-axis"><div class="label"></div><div class="track">${tk.filter((_, i) => i % tkStep === 0).map((t) => `<span class="tick" style="left:${pct(t.t).toFixed(2)}%">${esc(t.label)}</span>`).join('')}<span class="tick now" style="left:${nowP.toFixed(2)}%">${esc(nowLabel)}</span></div></div>`;
    const rows = certs.map((c) => {
      const nb = Date.parse(c.notBefore);
      const na = Date.parse(c.notAfter);
      const l = pct(nb);
      const r = pct(na);
      const cls = ['bar', c.status, c.authority ? 'ca' : '', nb < lo ? 'open-left' : '', na > hi ? 'open-right' : ''].join(' ');
      const ws = warnSeconds(c) * 1000;
      const wzStart = pct(na - ws);
      const wz = r - l > 0 && c.status !== 'expired' ? `<span class="wz" style="width:${Math.max(0, Math.min(100, ((r - wzStart) / Math.max(r - l, 0.0001)) * 100)).toFixed(2)}%"></span>` : '';
      const whenCls = c.status === 'expired' || c.status === 'invalid' || c.status === 'not-yet-valid' ? 'bad' : c.status === 'warning' ? 'warn' : '';
      const whenText = na > hi ? `until ${fmtDate(c.notAfter)}` : remaining(c);
      // the "expired 35 d ago" text goes right of the bar, and right of the now line when the bar ends before it
      const startP = c.status === 'expired' ? Math.max(r, nowP) : r;
      const room = 100 - startP;
      const when = narrow ? ''
        : room > gapPct(110) ? `<span class="when ${whenCls}" style="left:calc(${startP.toFixed(2)}% + 4px)">${esc(whenText)}</span>`
        : `<span class="when ${whenCls}" style="right:calc(${(100 - (na > hi || c.status === 'expired' ? r : Math.max(l, Math.min(r, wzStart)))).toFixed(2)}% + 2px);text-align:right;${c.status === 'ok' ? 'color:#fff;' : ''}">${esc(whenText)}</span>`;
      const whenSub = narrow ? `<b class="when-sub ${whenCls}">${esc(whenText)}</b> · ` : '';
      const sub = c.location.kind === 'kubeconfig' && c.location.kubeconfig ? `${c.location.file} · ${c.location.kubeconfig.entry} ${c.location.kubeconfig.name}` : c.location.via || c.location.file;
      return `<div class="tl-row${selected === c.id ? ' selected' : ''}" data-id="${esc(c.id)}" data-status="${esc(c.status)}" tabindex="0" role="button" aria-label="${esc(`${c.name}: ${statusWord[c.status] || c.status}, ${remaining(c)}`)}">
<div class="label"><span class="nm"><span class="dot ${esc(c.status)}"></span>${esc(c.name)}${c.authority ? ' <span class="badge ca">CA</span>' : ''}${c.status !== 'ok' ? ` <span class="badge ${esc(c.status)}">${esc(statusWord[c.status] || c.status)}</span>` : ''}</span><span class="sub" title="${esc(sub)}">${whenSub}${esc(sub)}</span></div>
<div class="track">${globalShade ? `<span class="shade" style="left:${nowP.toFixed(2)}%;width:${Math.max(0, shadeW).toFixed(2)}%"></span>` : ''}<span class="nowline" style="left:${nowP.toFixed(2)}%"></span><span class="${cls}" data-testid="cert-bar" data-cert-id="${esc(c.id)}" data-status="${esc(c.status)}" style="left:${l.toFixed(2)}%;width:${Math.max(0.3, r - l).toFixed(2)}%" title="${esc(`${fmtTime(c.notBefore)} → ${fmtTime(c.notAfter)}`)}">${wz}</span>${when}</div></div>`;
    });
    const more = matching.length - certs.length;
    const tail = more > 0 ? `<div class="tl-more"><button type="button" id="show-all" class="btn">Show ${more} more</button></div>` : matching.length === 0 ? '<div class="empty">No certificate matches.</div>' : '';
    $('timeline').innerHTML = axis + rows.join('') + tail;
    $('tl-count').textContent = matching.length === all.length ? `${all.length} certificate${all.length === 1 ? '' : 's'}, soonest to expire first` : `${matching.length} of ${all.length} shown, soonest to expire first`;
  }

  function renderTree() {
    const certs: Any[] = inv.certificates;
    const map = byId();
    const children = new Map<string, Any[]>();
    for (const c of certs) {
      if (c.signedBy && c.signedBy !== c.id && map.has(c.signedBy)) {
        const arr = children.get(c.signedBy) ?? [];
        arr.push(c);
        children.set(c.signedBy, arr);
      }
    }
    const isRoot = (c: Any) => !(c.signedBy && c.signedBy !== c.id && map.has(c.signedBy));
    const chips = (c: Any) => (c.components || []).map((x: string) => `<span class="chip">${esc(x)}</span>`).join('');
    const node = (c: Any, depth: number): string => {
      const kids = (children.get(c.id) ?? []).sort((a, b) => Number(b.authority) - Number(a.authority) || a.name.localeCompare(b.name));
      const meta = c.authority ? `${esc(c.subjectCN || c.subject)} · until ${esc(fmtDate(c.notAfter))}` : remaining(c);
      const head = `<div class="tnode${c.authority ? ' ca' : ''}" data-id="${esc(c.id)}" tabindex="0" role="button"><span class="dot ${esc(c.status)}"></span><span class="nm">${esc(c.name)}</span>${c.authority ? '<span class="badge ca">CA</span>' : ''}${c.status !== 'ok' ? `<span class="badge ${esc(c.status)}">${esc(statusWord[c.status] || c.status)}</span>` : ''}<span class="meta">${esc(meta)}</span>${chips(c)}</div>`;
      return `<li>${head}${kids.length && depth < 8 ? `<ul>${kids.map((k) => node(k, depth + 1)).join('')}</ul>` : ''}</li>`;
    };
    const roots = certs.filter(isRoot);
    // (a self-signed certificate that is no authority, the kubelet's own kubelet.crt, is its own root: not signed by a CA elsewhere)
    const top = (c: Any) => c.authority || children.has(c.id) || c.selfSigned;
    const cas = roots.filter(top).sort((a, b) => a.name.localeCompare(b.name));
    const orphans = roots.filter((c) => !top(c));
    let html = cas.length ? `<ul class="tree">${cas.map((c) => node(c, 0)).join('')}</ul>` : '';
    if (orphans.length) {
      html += `<div class="group-note">Signed by a CA that is not on this node</div><ul class="tree">${orphans.sort((a, b) => a.name.localeCompare(b.name)).map((c) => node(c, 0)).join('')}</ul>`;
    }
    $('tree').innerHTML = html || '<div class="empty">No certificates.</div>';
  }

  function renderFindings() {
    const order: Any = { error: 0, warning: 1, info: 2 };
    const fs: Any[] = [...inv.findings].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3) || String(a.code).localeCompare(String(b.code)));
    const map = byId();
    $('findings').innerHTML = fs.length ? `<ul class="findings">${fs.map((f) => {
      const link = f.certificate && map.has(f.certificate);
      return `<li class="${link ? 'link' : ''}"${link ? ` data-id="${esc(f.certificate)}"` : ''}><span><span class="badge ${esc(f.severity)}">${esc(f.severity)}</span></span><div><div>${esc(f.message)}</div><span class="code">${esc(f.code)}</span>${f.file ? ` <span class="file">${esc(f.file)}</span>` : ''}</div></li>`;
    }).join('')}</ul>` : '<div class="empty">No findings. Nothing to fix.</div>';
    $('f-count').textContent = fs.length ? `${fs.length}` : '';
    const miss: Any[] = (inv.missing || []).filter((m: Any) => m.state !== 'unreadable');
    const bad: Any[] = (inv.missing || []).filter((m: Any) => m.state === 'unreadable');
    $('missing').innerHTML = (miss.length ? `<div class="missing"><b>Expected but not on disk:</b> ${miss.map((m) => `<code>${esc(m.file)}</code>`).join(', ')}</div>` : '') +
      (bad.length ? `<div class="missing"><b>Expected but unreadable:</b> ${bad.map((m) => `<code>${esc(m.file)}</code>`).join(', ')}</div>` : '');
  }

  function kv(rows: [string, string | undefined | null][]): string {
    return `<dl class="kv">${rows.filter((r) => r[1] !== undefined && r[1] !== null && r[1] !== '').map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
  }

  function openPanel(id: string, push = true) {
    const c = byId().get(id);
    if (!c) { closePanel(); return; }
    selected = id;
    const map = byId();
    const loc = c.location;
    const issued: Any[] = inv.certificates.filter((x: Any) => x.signedBy === c.id && x.id !== c.id);
    const pk = c.privateKey || {};
    const keyText = !pk.present ? 'not found' : `${pk.location ? esc(pk.location.file) + (pk.location.user ? ` (user ${esc(pk.location.user)}, ${esc(pk.location.field || '')})` : '') + (pk.location.sameFile ? ' (same file)' : '') : 'present'}${pk.encrypted ? ' · encrypted' : ''}${pk.matches === true ? ' · matches the certificate' : pk.matches === false ? ' · <b style="color:var(--bad)">does NOT match</b>' : ''}`;
    const elapsed = Math.min(1, Math.max(0, (Date.parse(inv.now) - Date.parse(c.notBefore)) / 1000 / Math.max(1, c.lifetimeSeconds)));
    const sans = (c.sans || []).map((s: Any) => `<span class="chip">${esc(s.type)}: ${esc(s.value)}</span>`).join(' ');
    const signer = c.signedBy && map.has(c.signedBy) && c.signedBy !== c.id ? `<button class="linkish" data-id="${esc(c.signedBy)}">${esc(c.signerName || map.get(c.signedBy).name)}</button>` : c.selfSigned ? 'itself (self-signed)' : `${esc(c.signerName || 'not on this node')}`;
    $('panel-title').innerHTML = `${esc(c.name)} <span class="badge ${esc(c.status)}">${esc(statusWord[c.status] || c.status)}</span>`;
    $('panel-sub').textContent = remaining(c);
    $('panel-body').innerHTML = [
      '<h4>Validity</h4>',
      `<div class="life ${esc(c.status)}"><span style="width:${(elapsed * 100).toFixed(1)}%"></span></div>`,
      kv([
        ['Not before', esc(fmtTime(c.notBefore))],
        ['Not after', esc(fmtTime(c.notAfter))],
        ['Remaining', esc(remaining(c))],
        ['Lifetime', esc(fmtDur(c.lifetimeSeconds))],
      ]),
      '<h4>Location</h4>',
      kv([
        ['File', `<span class="mono">${esc(loc.file)}</span>`],
        ['Via symlink', loc.via ? `<span class="mono">${esc(loc.via)}</span>` : ''],
        ['Kind', esc(loc.kind) + (loc.index ? ` · #${esc(loc.index)} in bundle` : '')],
        ['Kubeconfig', loc.kubeconfig ? `${esc(loc.kubeconfig.entry)} <b>${esc(loc.kubeconfig.name)}</b> · ${esc(loc.kubeconfig.field)}` : ''],
        ['Managed by', esc(c.managedBy) + (c.layout ? ` · layout ${esc(c.layout)}` : '') + (c.profile ? ` · profile ${esc(c.profile)}` : '')],
        ['Read by', (c.components || []).length ? (c.components as string[]).map((x) => `<span class="chip">${esc(x)}</span>`).join(' ') : 'no component found'],
      ]),
      '<h4>Identity</h4>',
      kv([
        ['Subject', `<span class="mono">${esc(c.subject)}</span>`],
        ['Issuer', `<span class="mono">${esc(c.issuer)}</span>`],
        ['Signed by', signer],
        ['Serial', `<span class="mono">${esc(c.serial)}</span>`],
        ['SANs', sans],
        ['CA', c.authority ? `yes${c.selfSigned ? ' · self-signed' : ''}` : c.isCA ? 'no · CA:TRUE in form only (a self-signed serving certificate that signs nothing: check lists it with the certificates)' : 'no'],
        ['Key usage', esc((c.keyUsage || []).join(', '))],
        ['Ext. key usage', esc((c.extKeyUsage || []).join(', '))],
        ['Issued', issued.length ? issued.map((x) => `<button class="linkish" data-id="${esc(x.id)}">${esc(x.name)}</button>`).join(', ') : ''],
      ]),
      '<h4>Key</h4>',
      kv([
        ['Public key', esc(`${c.keyAlgorithm}${c.keySize ? ` ${c.keySize}` : ''}${c.curve ? ` (${c.curve})` : ''}`)],
        ['Signature', esc(c.signatureAlgorithm)],
        ['Private key', keyText],
      ]),
      '<h4>Fingerprints</h4>',
      kv([
        ['SHA-256', `<span class="mono">${esc(c.fingerprint)}</span>`],
        ['SPKI SHA-256', `<span class="mono">${esc(c.spkiSha256)}</span>`],
        ['Subject key ID', c.subjectKeyId ? `<span class="mono">${esc(c.subjectKeyId)}</span>` : ''],
        ['Authority key ID', c.authorityKeyId ? `<span class="mono">${esc(c.authorityKeyId)}</span>` : ''],
      ]),
      (c.findings || []).length ? `<h4>Findings</h4><ul class="findings">${c.findings.map((f: Any) => `<li><span><span class="badge ${esc(f.severity)}">${esc(f.severity)}</span></span><div><div>${esc(f.message)}</div><span class="code">${esc(f.code)}</span></div></li>`).join('')}</ul>` : '',
      c.pem ? `<h4>Certificate (PEM, public)</h4><details><summary>show PEM</summary><pre class="pem">${esc(c.pem)}</pre></details>` : '',
    ].join('');
    $('panel').hidden = false;
    $('scrim').hidden = false;
    document.querySelectorAll('.tl-row.selected').forEach((el) => el.classList.remove('selected'));
    document.querySelectorAll(`.tl-row[data-id="${CSS.escape(id)}"]`).forEach((el) => el.classList.add('selected'));
    if (push) history.replaceState(null, '', `#cert=${encodeURIComponent(id)}`);
    ($('panel-close') as HTMLButtonElement).focus({ preventScroll: true });
  }

  function closePanel() {
    selected = null;
    $('panel').hidden = true;
    $('scrim').hidden = true;
    document.querySelectorAll('.tl-row.selected').forEach((el) => el.classList.remove('selected'));
    if (location.hash.startsWith('#cert=')) history.replaceState(null, '', location.pathname + location.search);
  }

  function renderAll() {
    renderHeader();
    renderTimeline();
    renderTree();
    renderFindings();
    if (selected) openPanel(selected, false);
    document.body.dataset.ready = 'true';
    document.body.dataset.readAt = inv.now;
  }

  function renderLive() {
    const el = $('live');
    if (cfg.mode !== 'served') { el.className = 'live file'; el.innerHTML = `<span class="pulse"></span>snapshot · read ${esc(fmtTime(inv.now))}`; return; }
    const ago = Math.round((Date.now() - lastOk) / 1000);
    const lost = ago > Math.max(3 * (cfg.pollSeconds || 10), 15);
    el.className = `live${lost ? ' lost' : ''}`;
    el.innerHTML = lost ? `<span class="pulse"></span>connection lost · showing data read ${esc(fmtTime(inv.now))}` : `<span class="pulse"></span>live · refreshed ${ago}s ago`;
  }

  $('filter').addEventListener('input', () => { clearTimeout(filterTimer); filterTimer = setTimeout(renderTimeline, 120); });
  $('problems').addEventListener('click', () => {
    const on = $('problems').getAttribute('aria-pressed') !== 'true';
    $('problems').setAttribute('aria-pressed', String(on));
    renderTimeline();
  });
  document.addEventListener('click', (e) => {
    const t = e.target as HTMLElement;
    if (t.id === 'show-all') { rowLimit = Infinity; renderTimeline(); return; }
    if (t.closest('#panel-close') || t.id === 'scrim') { closePanel(); return; }
    const hit = t.closest('[data-id]') as HTMLElement | null;
    if (hit && hit.dataset.id) openPanel(hit.dataset.id);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') closePanel();
    const t = e.target as HTMLElement;
    if ((e.key === 'Enter' || e.key === ' ') && t.dataset && t.dataset.id && t.getAttribute('role') === 'button') { e.preventDefault(); openPanel(t.dataset.id); }
  });
  let resizeTimer: Any;
  let filterTimer: Any;
  window.addEventListener('resize', () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(renderTimeline, 150); });

  const m = /^#cert=(.+)$/.exec(location.hash);
  if (m) selected = decodeURIComponent(m[1]);
  if (inv) { renderAll(); renderLive(); }
  else $('headline').textContent = 'Loading the inventory…';

  if (cfg.mode === 'served') {
    const every = Math.max(2, Number(cfg.pollSeconds) || 10) * 1000;
    const poll = async () => {
      try {
        const r = await fetch(cfg.apiPath || 'api/inventory', { cache: 'no-store', credentials: 'same-origin', headers: etag ? { 'If-None-Match': etag } : {} });
        if (r.status === 304) { lastOk = Date.now(); if (inv) renderLive(); return; }
        if (!r.ok) throw new Error(String(r.status));
        const text = await r.text();
        etag = r.headers.get('ETag') || '';
        lastOk = Date.now();
        if (text !== lastText) {
          lastText = text;
          const next = JSON.parse(text);
          if (next && next.kind === 'Inventory') { inv = next; renderAll(); }
        }
      } catch { /* shown by renderLive as "connection lost" */ }
      if (inv) renderLive();
    };
    if (!inv) void poll();
    setInterval(poll, every);
    setInterval(() => { if (inv) renderLive(); }, 1000);
  }
}
