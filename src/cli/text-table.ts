// Plain aligned text tables for the state commands (phones, audit, accounts). `--json` output
// is the machine interface; this is for people, so empty cells show as "-".
export function textTable(headers: string[], rows: Array<Array<string | number | undefined | null>>): string {
  const cells = rows.map((r) => r.map((c) => (c === undefined || c === null || c === '' ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

/** ISO 8601 to the second, UTC: what people compare and what `--since` accepts back. */
export function isoSeconds(d: Date | undefined): string | undefined {
  return d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : undefined;
}
