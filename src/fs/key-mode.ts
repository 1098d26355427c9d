/**
 * Private key files and their modes. Files kubepki rewrites keep their mode (Go's writes do too, spec §1.3),
 * but a private key is never left readable by others: a key file that was there keeps its owner's and
 * group's bits (non-kubeadm installers let a group read keys), and loses the bits for others. A kubeconfig
 * with client-key-data is a key file too. No imports: plans, the transaction and the CLIs all use it.
 */

/** An existing key file whose mode a write narrows (node path). */
export interface ModeChange { path: string; from: number; to: number }

/** The mode a private key file that was there is written with: its owner's and group's bits, none for others. */
export function keyFileMode(mode: number): number {
  return mode & ~0o007;
}

/** The narrowing a key file of this mode gets when written (`mode` as stat gives it), or undefined if none. */
export function keyModeChange(path: string, mode: number): ModeChange | undefined {
  const from = mode & 0o7777;
  const to = keyFileMode(from);
  return to === from ? undefined : { path, from, to };
}

/** Whether a file's content holds a private key: a PEM private key block, or a kubeconfig's client-key-data. */
export function holdsPrivateKey(content: Uint8Array): boolean {
  const text = Buffer.from(content).toString('latin1');
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) || /["']?client-key-data["']?\s*:\s*["']?[A-Za-z0-9+/]/.test(text);
}

/** `mode 0644 → 0640: …`: a narrowed key file mode, as plans and results say it. */
export function modeChangeText(m: { from: number; to: number }): string {
  const o = (n: number) => n.toString(8).padStart(4, '0');
  return `mode ${o(m.from)} → ${o(m.to)}: a private key is not for others to read`;
}
