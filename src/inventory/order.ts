/**
 * `a.localeCompare(b)` without loading ICU's collator (~10 ms of every check):
 * for text made of lowercase letters, digits, '-', '.' and '/', ICU's root order
 * is code-unit order; anything else goes to localeCompare.
 */
export function localeOrder(a: string, b: string): number {
  if (PLAIN.test(a) && PLAIN.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  return a.localeCompare(b);
}

const PLAIN = /^[a-z0-9./-]*$/;
