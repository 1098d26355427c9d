/**
 * `a.localeCompare(b)` without loading ICU's collator (~10 ms of every check):
 * for text made of lowercase letters, digits, '-', '.' and '/', ICU's root order
 * is code-unit order; anything else goes to an English collator. English, whatever
 * LANG says: it is the root order, untailored, so it agrees with the code-unit
 * shortcut and the output is the same on every machine. (The node's locale did not:
 * under da_DK "aa" sorts after "z", so plain pairs and mixed pairs disagreed and a
 * sort's result depended on the order rows were found in.)
 */
export function localeOrder(a: string, b: string): number {
  if (PLAIN.test(a) && PLAIN.test(b)) return codeUnitOrder(a, b);
  return (collator ??= new Intl.Collator('en')).compare(a, b);
}

const PLAIN = /^[a-z0-9./-]*$/;
let collator: Intl.Collator | undefined;

/** Code-unit order: Go's string order (`sort.Strings`, bytes) for the ASCII of flag, volume and host names. */
export function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
