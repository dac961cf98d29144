// Ready-to-paste DHCP server configuration that hands the boot server (and, when asked, a
// VLAN) to Polycom phones only. White paper, Discovering the Provisioning Server, Stage 1:
// "You can configure some DHCP servers to check Option 60 for information on the device and
// respond with an option specific to the Polycom phones."
//
// A phone is matched by option 60 (facts §5.2: a binary RFC 3925-style blob that starts with the
// enterprise number 13885 = 00:00:36:3d and holds the sub-option "Polycom") or by the MAC OUI.
// Each format is checked by its real parser in test/dhcp/snippet-parsers.test.ts.
import { ProvError } from '../errors.ts';
import { bootOptions, bootServerValue, checkOptionCode, type BootOption, type OptionType } from './boot-option.ts';
import { buildDvdString } from './vlan.ts';

export type SnippetFormat = 'isc' | 'kea' | 'dnsmasq';
export const SNIPPET_FORMATS: readonly SnippetFormat[] = ['isc', 'kea', 'dnsmasq'];

/** Polycom MAC OUIs, as the snippets need them (colon form). Mirrors POLYCOM_OUIS of src/config/models.ts. */
export const SNIPPET_OUIS = ['00:04:f2', '64:16:7f', '48:25:67'] as const;
/** Polycom's IANA enterprise number 13885 as the first four bytes of option 60 (facts §5.2). */
export const ENTERPRISE_HEX = '0000363d';

export interface SnippetInput {
  bootServer: string;
  format: SnippetFormat;
  /** Boot server options; default [66]. */
  options?: number[];
  /** Type of custom options (128–254); 66 and 160 are always strings. */
  optionType?: OptionType;
  /** VLAN IDs for the DVD string; none = no VLAN discovery. */
  vlan?: number[];
  /** Option carrying the DVD string; default 128 (the first one VLAN Discovery "Fixed" reads). */
  vlanOption?: number;
  /** Class/tag name used in the snippet. */
  className?: string;
}

interface Item {
  code: number;
  type: OptionType;
  text: string;
  why: string;
}

/** Kea's standard DHCPv4 option codes in 128–254 (checked with kea-dhcp4 2.2 -t); an option-def cannot reuse them. */
const KEA_STANDARD_HIGH = new Set([136, 137, 138, 141, 146, 159, 212, 213]);

function items(input: SnippetInput): Item[] {
  const opts: BootOption[] = bootOptions(input.options ?? [66], input.optionType);
  const out: Item[] = opts.map((o) => ({
    code: o.code,
    type: o.type,
    text: bootServerValue(input.bootServer, o.type).text,
    why: o.code === 66 ? 'boot server (Boot Server: Option 66)' : o.code === 160 ? 'boot server (UCS factory default reads 66 or 160)' : `boot server (Boot Server: Custom, option ${o.code}, type ${o.type === 'ip' ? 'IP Address' : 'String'})`,
  }));
  if (input.vlan && input.vlan.length > 0) {
    const code = input.vlanOption ?? 128;
    checkOptionCode(code, 'VLAN ID option');
    if (code === 66) throw new ProvError('PP_USAGE', 'the VLAN ID option must be 128–254');
    if (opts.some((o) => o.code === code)) {
      throw new ProvError('PP_USAGE', `VLAN ID option ${code} is also the boot server option`, {
        hint: 'Guide, DHCP Menu: the Boot Server Option "cannot be the same as VLAN ID Option". Pick another --vlan-option.',
      });
    }
    out.push({ code, type: 'string', text: buildDvdString(input.vlan), why: `VLAN discovery (DVD string; VLAN Discovery Fixed reads 128, 144, 157, 191; Custom reads option ${code})` });
  }
  return out;
}

function header(input: SnippetInput, comment: string): string[] {
  const byText = input.format === 'kea' ? '' : ', or the text "Polycom"';
  return [
    `${comment} polyprov dhcp snippet (${input.format}): hand the boot server to Polycom phones only.`,
    `${comment} Phones are matched by option 60 (enterprise 13885 = 00:00:36:3d${byText}) or MAC OUI ${SNIPPET_OUIS.join(', ')}.`,
  ];
}

export function renderSnippet(input: SnippetInput): string {
  const list = items(input);
  const cls = input.className ?? 'polycom-phones';
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,62}$/.test(cls)) throw new ProvError('PP_USAGE', `class name "${cls}" must be letters, digits, - or _`);
  switch (input.format) {
    case 'isc':
      return renderIsc(input, list, cls);
    case 'kea':
      return renderKea(input, list, cls);
    case 'dnsmasq':
      return renderDnsmasq(input, list, cls);
  }
}

// ---- ISC dhcpd (dhcpd.conf(5), dhcp-options(5), dhcp-eval(5)) ----

function renderIsc(input: SnippetInput, list: Item[], cls: string): string {
  const lines = header(input, '#');
  lines.push('# Paste at the top level of dhcpd.conf (outside any subnet block).');
  const name = (it: Item) => (it.code === 66 ? 'tftp-server-name' : `polyprov-opt-${it.code}`);
  for (const it of list) {
    if (it.code === 66) continue;
    lines.push(`option ${name(it)} code ${it.code} = ${it.type === 'ip' ? 'ip-address' : 'text'};`);
  }
  const ouis = SNIPPET_OUIS.map((o) => `(substring(hardware, 1, 3) = ${o})`);
  lines.push(
    `class "${cls}" {`,
    // `~~` is a case-insensitive regex; it only sees text up to the first NUL, hence the binary prefix test as well.
    `  match if (substring(option vendor-class-identifier, 0, 4) = ${ENTERPRISE_HEX.match(/../g)!.join(':')})`,
    `        or (option vendor-class-identifier ~~ "polycom")`,
    ...ouis.map((o, i) => `        or ${o}${i === ouis.length - 1 ? ';' : ''}`),
  );
  for (const it of list) {
    lines.push(`  # ${it.why}`);
    lines.push(`  option ${name(it)} ${it.type === 'ip' ? it.text : `"${it.text}"`};`);
  }
  // dhcpd sends only options the client asked for; append ours to the phone's request list.
  // A colon-separated hex list is one data constant (dhcp-eval(5)); a bare `a0` alone is lexed as
  // hex too, but a name would be read as a variable, so always write the colon form.
  const hex = list.map((it) => it.code.toString(16).padStart(2, '0')).join(':');
  lines.push(
    '  # dhcpd sends only requested options: add these codes to the phone\'s parameter request list.',
    '  if exists dhcp-parameter-request-list {',
    `    option dhcp-parameter-request-list = concat(option dhcp-parameter-request-list, ${hex});`,
    '  }',
    '}',
  );
  return lines.join('\n') + '\n';
}

// ---- Kea (kea-dhcp4 JSON; client classification and option-data) ----

function renderKea(input: SnippetInput, list: Item[], cls: string): string {
  const defs: unknown[] = [];
  const data: unknown[] = [];
  for (const it of list) {
    if (it.code === 66) {
      data.push({ name: 'tftp-server-name', data: it.text, 'always-send': true });
      continue;
    }
    if (KEA_STANDARD_HIGH.has(it.code)) {
      throw new ProvError('PP_USAGE', `option ${it.code} is a standard Kea DHCPv4 option with its own format; Kea cannot carry the boot server or VLAN string in it`, {
        hint: `Choose a code 128–254 outside ${[...KEA_STANDARD_HIGH].join(', ')} for --option/--vlan-option.`,
      });
    }
    const name = `polyprov-opt-${it.code}`;
    defs.push({ name, code: it.code, type: it.type === 'ip' ? 'ipv4-address' : 'string', space: 'dhcp4' });
    data.push({ name, data: it.text, 'always-send': true });
  }
  const ouiTests = SNIPPET_OUIS.map((o) => `substring(pkt4.mac, 0, 3) == 0x${o.replace(/:/g, '')}`);
  const test = [`substring(option[60].hex, 0, 4) == 0x${ENTERPRISE_HEX}`, ...ouiTests].join(' or ');
  const doc = {
    comment: `${header(input, '').map((s) => s.trim()).join(' ')} Merge these keys into your "Dhcp4" object.`,
    ...(defs.length ? { 'option-def': defs } : {}),
    'client-classes': [{ name: cls, test, 'option-data': data }],
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

// ---- dnsmasq (dnsmasq(8): dhcp-vendorclass substring match, dhcp-mac, dhcp-option-force) ----

function renderDnsmasq(input: SnippetInput, list: Item[], cls: string): string {
  const lines = header(input, '#');
  lines.push(
    '# Add to dnsmasq.conf (or a file in /etc/dnsmasq.d/).',
    '# dhcp-vendorclass matches a substring of option 60, binary blobs included.',
    `dhcp-vendorclass=set:${cls},Polycom`,
    ...SNIPPET_OUIS.map((o) => `dhcp-mac=set:${cls},${o}:*:*:*`),
  );
  for (const it of list) {
    if (it.code === 150 && it.type === 'string') {
      // dnsmasq knows 150 as tftp-server-address (an address list) and refuses any other value.
      throw new ProvError('PP_USAGE', 'dnsmasq treats option 150 as tftp-server-address (IP addresses); it cannot carry a string', {
        hint: 'Use --option-type ip with an IPv4 boot server, or another custom option code.',
      });
    }
    lines.push(`# ${it.why}`);
    // -force: send even when the phone does not list the option; quotes keep a string a string.
    lines.push(`dhcp-option-force=tag:${cls},${it.code},${it.type === 'ip' ? it.text : `"${it.text}"`}`);
  }
  return lines.join('\n') + '\n';
}
