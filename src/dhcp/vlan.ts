// The DHCP VLAN Discovery (DVD) string a phone reads from option 128/144/157/191 or a custom
// option (guide, DHCP Menu: "VLAN Discovery" and "VLAN ID Option"; facts §5.3, from the SIP 2.2
// Administrator's Guide p. C-14 "Assigning a VLAN ID Using DHCP"):
//   - starts with `VLAN-A=` (case-sensitive), at least one VLAN ID;
//   - IDs 0–4095, separated by `+`, written in decimal, hex (`0x0a`) or octal (`012`);
//   - terminated by `;`, anything after `;` ignored, no white space before `;`.

/** VLAN Discovery "Fixed" reads these options, in this order (guide, DHCP Menu). */
export const FIXED_VLAN_OPTIONS = [128, 144, 157, 191] as const;
/** Guide, DHCP Menu: VLAN ID Option default when VLAN Discovery is Custom. */
export const DEFAULT_CUSTOM_VLAN_OPTION = 129;

export const VLAN_ID_MAX = 4095;

export type DvdParse = { ok: true; ids: number[] } | { ok: false; reason: string };

function parseId(s: string): number | undefined {
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) n = parseInt(s.slice(2), 16);
  else if (/^0[0-7]+$/.test(s)) n = parseInt(s.slice(1), 8);
  else if (/^(0|[1-9][0-9]*)$/.test(s)) n = parseInt(s, 10);
  else return undefined;
  return n >= 0 && n <= VLAN_ID_MAX ? n : undefined;
}

/** Reads a DVD string as a phone would. */
export function parseDvdString(s: string): DvdParse {
  if (!s.startsWith('VLAN-A=')) return { ok: false, reason: 'must start with "VLAN-A=" (case-sensitive)' };
  const semi = s.indexOf(';');
  if (semi < 0) return { ok: false, reason: 'must be terminated by ";"' };
  const list = s.slice('VLAN-A='.length, semi);
  if (list === '') return { ok: false, reason: 'needs at least one VLAN ID' };
  if (/\s$/.test(list)) return { ok: false, reason: 'no white space allowed before ";"' };
  const ids: number[] = [];
  for (const part of list.split('+')) {
    const id = parseId(part);
    if (id === undefined) return { ok: false, reason: `"${part}" is not a VLAN ID 0–${VLAN_ID_MAX} (decimal, 0x hex or 0 octal)` };
    ids.push(id);
  }
  return { ok: true, ids };
}

/**
 * Parses the user's `--vlan` value: one ID or several joined by `+` (or `,`), each decimal,
 * hex or octal as the DVD string allows. Returns the IDs or a reason.
 */
export function parseVlanIds(s: string): { ok: true; ids: number[] } | { ok: false; reason: string } {
  const parts = s.trim().split(/[+,]/);
  const ids: number[] = [];
  for (const p of parts) {
    const id = parseId(p.trim());
    if (id === undefined) return { ok: false, reason: `"${p}" is not a VLAN ID 0–${VLAN_ID_MAX}` };
    ids.push(id);
  }
  return { ok: true, ids };
}

/** Builds the DVD string, decimal IDs: [10] → `VLAN-A=10;`, [10, 20] → `VLAN-A=10+20;`. */
export function buildDvdString(ids: readonly number[]): string {
  if (ids.length === 0) throw new Error('a DVD string needs at least one VLAN ID');
  for (const id of ids) if (!Number.isInteger(id) || id < 0 || id > VLAN_ID_MAX) throw new Error(`VLAN ID ${id} is outside 0–${VLAN_ID_MAX}`);
  return `VLAN-A=${ids.join('+')};`;
}
