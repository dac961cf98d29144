// The change record's row shape, shared by both backends: values are kept as JSON text (NULL
// when absent), times as integer milliseconds like every other table.
import type { ChangeQuery, ChangeRecord } from '../domain.ts';

export interface ChangeRow {
  at: number | string;
  who: string;
  operation: string;
  target: string;
  old_value: string | null;
  new_value: string | null;
}

export const CHANGE_COLS = 'at, who, operation, target, old_value, new_value';

/** A generous bound on one query, as for the audit. */
export const MAX_CHANGE_ROWS = 100_000;

export function changeToValues(c: ChangeRecord): unknown[] {
  return [c.at.getTime(), c.who, c.operation, c.target, jsonOrNull(c.old), jsonOrNull(c.new)];
}

export function changeFromRow(r: ChangeRow): ChangeRecord {
  const c: ChangeRecord = { at: new Date(Number(r.at)), who: r.who, operation: r.operation, target: r.target };
  if (r.old_value !== null) c.old = JSON.parse(r.old_value) as unknown;
  if (r.new_value !== null) c.new = JSON.parse(r.new_value) as unknown;
  return c;
}

export function changeLimit(q: ChangeQuery): number {
  const n = q.limit ?? 100;
  return Number.isFinite(n) ? Math.max(0, Math.min(Math.floor(n), MAX_CHANGE_ROWS)) : MAX_CHANGE_ROWS;
}

function jsonOrNull(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}
