/**
 * What to do next about an inventory, in the operator's words: the line `check` prints as `Next:`, the
 * dashboard's headline advice and the JSON's `next`. One place, so every view gives the same advice.
 */
import { agentReissueAdvice } from '../layouts/detect.js';
import type { Inventory } from './types.js';

/** kubeadm's CA names (their rows go in the CA table; without them nothing can be renewed). */
export const KUBEADM_CA_NAMES = ['ca', 'etcd-ca', 'front-proxy-ca'];

export function nextStep(inv: Omit<Inventory, 'next'>): string {
  const s = inv.summary;
  const rootFlag = inv.root && inv.root !== '/' ? ` --root ${inv.root}` : '';
  const gone = inv.missing.filter((m) => m.state !== 'unreadable').length;
  const unreadable = inv.missing.length - gone;
  // without its CA nothing can be renewed: that comes first
  const caGone = inv.missing.filter((m) => m.state !== 'unreadable' && KUBEADM_CA_NAMES.includes(m.name)).map((m) => m.file);
  if (caGone.length > 0) {
    return `bring back ${caGone.join(', ')} and their keys from a backup (kubepki backups${rootFlag}) or another control-plane node (kubepki ca export / ca import); with no copy left, kubepki rebuild${rootFlag} --new-ca --dry-run`;
  }
  if (s.expired + s.warning > 0) {
    return agentOnly(inv) ?? `kubepki renew all${rootFlag} --dry-run, then without --dry-run (backup first); restart what it lists`;
  }
  if (gone > 0) return `kubepki rebuild${rootFlag} --dry-run (re-creates missing kubeadm files)`;
  if (unreadable > 0) return `restore the unreadable files from a backup (kubepki backups${rootFlag}), or move them aside and run kubepki rebuild${rootFlag} --dry-run`;
  return '';
}

/**
 * On a k3s/RKE2 agent where every expiring certificate is a leaf the agent re-issues and whose CA key is
 * not here, restarting the agent is the step: `renew all` would renew nothing there.
 */
function agentOnly(inv: Omit<Inventory, 'next'>): string | undefined {
  const advice = agentReissueAdvice(inv);
  const due = inv.certificates.filter((c) => c.status === 'expired' || c.status === 'warning');
  const caKeyHere = (id: string | undefined) => Boolean(id && inv.certificates.find((c) => c.id === id)?.privateKey.present);
  return due.length > 0 && due.every((c) => advice(c) && !caKeyHere(c.signedBy)) ? advice(due[0]!) : undefined;
}
