/**
 * Command-line flags as check finds them: in a static pod's or a unit's words (`--tls-cert-file=/x`), and written
 * anywhere in a file's text (a manifest, kubeadm-flags.env).
 *
 * Flags in a text are found with string methods rather than a regular expression each, for the same reason as in
 * names.ts: V8 compiles each regular expression at its first use in every process, and check runs each of these
 * once or twice per start.
 */

/**
 * `--name=value` or `--name` (the value may be empty, and holds anything). One pattern for every word check
 * reads, static pods' and units' alike: a loop over each flag's characters instead costs more in the interpreter
 * (~1 M instructions for a kubeadm node's ~150 words) than compiling this once.
 */
const FLAG = /^(--[a-z0-9-]+)(?:=([^]*))?$/;

/** A word that is a long flag, split at its `=`; undefined for any other word. */
export function splitFlag(word: string): { flag: string; value?: string } | undefined {
  const m = FLAG.exec(word);
  if (!m) return undefined;
  return m[2] === undefined ? { flag: m[1]! } : { flag: m[1]!, value: m[2] };
}

/**
 * Whether a string holds a line terminator (what `.` in a pattern does not match). (indexOf, not a loop over the
 * characters: a check asks this of every flag value of every manifest, and a loop that hot has V8 optimise it on
 * another thread, ~4 M instructions, for a handful of microseconds saved.)
 */
export function hasLineBreak(s: string): boolean {
  return s.includes('\n') || s.includes('\r') || s.includes('\u2028') || s.includes('\u2029');
}

/** What `\s` matches in a pattern. */
function isSpace(c: number): boolean {
  return (c >= 9 && c <= 13) || c === 32 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a)
    || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

const isQuote = (c: number) => c === 34 || c === 39;

/** A value as written after `--flag=` in a file: up to a space or a quote ([^\s"']). */
export const BARE = (c: number): boolean => !isSpace(c) && !isQuote(c);
/** Up to a space or a double quote ([^\s"]): kubeadm-flags.env's KUBELET_KUBEADM_ARGS="…" ends with one. */
export const UNTIL_DOUBLE_QUOTE = (c: number): boolean => !isSpace(c) && c !== 34;

/**
 * The value of the first `FLAG=value` written anywhere in a text with at least one character that `accept`s,
 * as the pattern `FLAG=(X+)` finds it (`FLAG=["']?(X+)` with `quoted`, for a value a manifest quotes);
 * undefined when there is none.
 */
export function flagInText(text: string, flag: string, accept: (c: number) => boolean, quoted = false): string | undefined {
  const needle = `${flag}=`;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    let from = at + needle.length;
    if (quoted && from + 1 < text.length && isQuote(text.charCodeAt(from)) && accept(text.charCodeAt(from + 1))) from++;
    let end = from;
    while (end < text.length && accept(text.charCodeAt(end))) end++;
    if (end > from) return text.slice(from, end);
  }
  return undefined;
}
