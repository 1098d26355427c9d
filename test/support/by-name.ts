import assert from 'node:assert/strict';
import type { CertEntry, Inventory } from '../../src/inventory/types.js';

/** The inventory's row named `name`; a test failure that lists the names there are when there is none. */
export function byName(inv: Pick<Inventory, 'certificates'>, name: string): CertEntry {
  const c = inv.certificates.find((x) => x.name === name);
  assert.ok(c, `certificate ${name} not found; have ${inv.certificates.map((x) => x.name).join(', ')}`);
  return c;
}
