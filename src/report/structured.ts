import { stringify } from 'yaml';
import type { Inventory } from '../inventory/types.js';

/** `-o json`: the versioned Inventory object, as is. */
export function renderJson(inv: Inventory): string {
  return JSON.stringify(inv, null, 2) + '\n';
}

export function renderYaml(inv: Inventory): string {
  return stringify(inv, { lineWidth: 0 });
}
