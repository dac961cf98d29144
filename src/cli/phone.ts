// `polyprov phone …`: one phone. `show` (the store helper's phone-show.ts) reads what the server
// saw; `boot`, `run`, `set` and `contact` are the virtual phone (src/phone/, issue 7), which boots
// against a server the way the documents say a SoundPoint IP / SoundStation IP / VVX does.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { modelForPart, normalizeModel, parseMac, partNumberFor } from '../config/models.ts';
import type { Mac, ModelToken, PartNumber } from '../config/types.ts';
import { ProvError } from '../errors.ts';
import { bootPhone, COULD_NOT_CONTACT, type BootRecord, type PhoneProfile, type Stage, type StageDiscovery } from '../phone/boot.ts';
import { clientFactory } from '../phone/clients.ts';
import { addContact, listContacts, removeContact, setLocalParam } from '../phone/local-edits.ts';
import { runPhone } from '../phone/run.ts';
import { FTPS_MODES, parseProtocol, parseServerAddress, redact, type FtpsMode, type Protocol, type ServerAddress } from '../phone/server-address.ts';
import { DirState, MemoryState, type PhoneStateStore } from '../phone/state.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { registerPhoneShow } from './phone-show.ts';

interface PhoneFlags {
  server?: string;
  serverType?: string;
  ftpsMode?: string;
  mac?: string;
  model?: string;
  part?: string;
  state?: string;
  user?: string;
  password?: string;
  tries?: string;
  retryWait?: string;
  bootromVersion?: string;
  appVersion?: string;
  tagSerial?: boolean;
  ca?: string;
  insecure?: boolean;
  timeout?: string;
  json?: boolean;
  dhcp?: string;
  dhcpClientPort?: string;
  dhcpTimeout?: string;
  bootServerMode?: string;
  bootServerOption?: string;
  bootServerOptionType?: string;
  noLogs?: boolean;
  bootromHttpPort?: string;
}

const DEFAULT_BOOTROM = '5.0.0.0001';
const DEFAULT_APP = '3.3.0.0000';

function usage(message: string): ProvError {
  return new ProvError('PP_USAGE', message);
}

function intFlag(v: string | undefined, name: string, min: number, max: number, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw usage(`${name} ${v} is outside ${min}–${max}`);
  return n;
}

function addBootOptions(cmd: Command): Command {
  return cmd
    .option('--server <address>', 'boot server (Server Menu forms: IP, name, or URL like http://user:pass@host/dir/master.cfg)')
    .option('--server-type <type>', 'Server Type when the address has no protocol: ftp (default), tftp, http, https, ftps, or 0–4')
    .option('--ftps-mode <mode>', 'FTPS: explicit (AUTH TLS on port 21; the default for Server Type ftps) or implicit (TLS from the first byte on 990; the default for an ftps:// URL, as libcurl reads it)')
    .option('--mac <mac>', 'the phone MAC (default: the one in --state)')
    .option('--model <model>', 'model token such as VVX410, SPIP650 (default: from --part, else VVX410)')
    .option('--part <part>', 'part number such as 3111-46162-001 (default: from the model)')
    .option('--state <dir>', "the phone's flash: cached image version, configuration, overrides, directory")
    .option('--user <user>', 'Server User (used when the URL has none; default PlcmSpIp)')
    .option('--password <password>', 'Server Password (used when the URL has none; default PlcmSpIp)')
    .option('--tries <n>', 'File Transmit Tries, 1–10', '3')
    .option('--retry-wait <seconds>', 'Retry Wait, 0–300 s, measured from the start of an attempt', '1')
    .option('--bootrom-version <v>', 'bootROM/Updater version in the Updater User-Agent', DEFAULT_BOOTROM)
    .option('--app-version <v>', 'application version before the first image is loaded', DEFAULT_APP)
    .option('--tag-serial', 'Tag SN to UA: put the MAC in the User-Agent')
    .option('--ca <file>', 'PEM CA certificate(s) to trust for https and ftps')
    .option('--insecure', 'do not verify the https or ftps server certificate')
    .option('--timeout <ms>', 'per-transfer timeout', '10000')
    .option('--dhcp <host:port>', 'discover the boot server over DHCP first (white paper, Discovering the Provisioning Server)')
    .option('--dhcp-client-port <port>', 'UDP port DHCP replies come back to (68 on a network)')
    .option('--dhcp-timeout <ms>', 'each DHCP wait', '2000')
    .option('--boot-server-mode <mode>', 'DHCP Menu Boot Server: option66, custom, static, custom+option66', 'option66')
    .option('--boot-server-option <n>', 'DHCP Menu Boot Server Option: the custom option, 128–254 (default 160)')
    .option('--boot-server-option-type <type>', 'DHCP Menu Boot Server Option Type: ip or string (default string)')
    .option('--no-logs', 'do not upload <MAC>-boot.log and <MAC>-app.log')
    .option('--bootrom-http-port <port>', "Server Type https: the port the bootROM's HTTP reaches (it cannot speak HTTPS; default 80, or the address's own port when not 443)");
}

export interface PreparedPhone {
  server: ServerAddress;
  serverString: string;
  profile: PhoneProfile;
  state: PhoneStateStore;
  settings: { tries: number; retryWaitSec: number; uploadLogs: boolean; bootromHttpPort?: number };
  makeClient: ReturnType<typeof clientFactory>;
  discovery?: { stage: string; detail: string; trace: string[] };
  /** With --dhcp: each stage's own discovery. */
  discover?: (stage: Stage) => Promise<StageDiscovery>;
}

export async function preparePhone(flags: PhoneFlags): Promise<PreparedPhone> {
  const state: PhoneStateStore = flags.state ? new DirState(flags.state) : new MemoryState();
  const cache = await state.load();
  const mac = parseMac(flags.mac ?? cache.mac ?? '');
  if (!mac) throw usage(flags.mac ? `--mac "${flags.mac}" is not a MAC address; give 12 hex digits such as 0004f2000001` : 'give --mac (or a --state directory of a phone that booted before)');
  let model: ModelToken | undefined;
  if (flags.model !== undefined) {
    model = normalizeModel(flags.model);
    if (!model) throw usage(`--model "${flags.model}" is not a known model; use a token such as SPIP650, SSIP6000, VVX410`);
  }
  const part: PartNumber | undefined = flags.part?.trim();
  if (part !== undefined && !/^\d{4}-\d{5}-\d{3}$/.test(part)) throw usage(`--part "${flags.part}" is not a part number like 3111-46162-001`);
  model ??= (part ? modelForPart(part) : undefined) ?? (cache.model ? normalizeModel(cache.model) : undefined) ?? 'VVX410';
  let serverType: Protocol | undefined;
  if (flags.serverType !== undefined) {
    serverType = parseProtocol(flags.serverType);
    if (!serverType) throw usage(`--server-type "${flags.serverType}" is not ftp, tftp, http, https, ftps or 0–4`);
  }
  const ftpsMode = flags.ftpsMode?.trim().toLowerCase() as FtpsMode | undefined;
  if (ftpsMode !== undefined && !FTPS_MODES.includes(ftpsMode)) throw usage(`--ftps-mode "${flags.ftpsMode}" is not explicit or implicit`);

  let serverString = flags.server ?? '';
  let discovery: PreparedPhone['discovery'];
  let discover: PreparedPhone['discover'];
  const phoneModel: ModelToken = model;
  const menu = { serverType, user: flags.user, password: flags.password, ...(ftpsMode ? { ftpsMode } : {}) };
  if (flags.dhcp) {
    const { discoverBootServer, BOOT_SERVER_MODES } = await import('../phone/discovery.ts');
    const m = /^(.+):(\d+)$/.exec(flags.dhcp);
    if (!m) throw usage(`--dhcp "${flags.dhcp}" is not HOST:PORT`);
    const mode = flags.bootServerMode as (typeof BOOT_SERVER_MODES)[number];
    if (!BOOT_SERVER_MODES.includes(mode)) throw usage(`--boot-server-mode "${flags.bootServerMode}" is not one of ${BOOT_SERVER_MODES.join(', ')}`);
    const optionType = flags.bootServerOptionType;
    if (optionType !== undefined && optionType !== 'ip' && optionType !== 'string') throw usage(`--boot-server-option-type "${optionType}" is not ip or string`);
    const run = (stage: Stage) =>
      discoverBootServer({
        ...(flags.bootServerOption !== undefined ? { customOption: intFlag(flags.bootServerOption, '--boot-server-option', 128, 254, 160) } : {}),
        ...(optionType !== undefined ? { optionType } : {}),
        dhcp: { host: m[1]!, port: Number(m[2]) },
        mac,
        model: phoneModel,
        mode,
        stage,
        bootromVersion: flags.bootromVersion,
        appVersion: cache.appVersion ?? flags.appVersion,
        partNumber: part ?? partNumberFor(phoneModel),
        staticServer: flags.server ?? null,
        cached: cache.serverAddress ?? null,
        timeoutMs: intFlag(flags.dhcpTimeout, '--dhcp-timeout', 1, 600_000, 2000),
        ...(flags.dhcpClientPort ? { clientPort: intFlag(flags.dhcpClientPort, '--dhcp-client-port', 1, 65535, 68) } : {}),
      });
    const d = await run('bootrom');
    discovery = { stage: d.stage, detail: d.detail, trace: d.trace };
    if (d.server) serverString = d.server;
    // White paper, Stage 4 note: "The BootROM and UC software application will each independently
    // perform the provisioning discovery process". The first bootROM stage uses the discovery just
    // made; every later stage runs its own.
    let first: typeof d | undefined = d;
    discover = async (stage) => {
      const found = stage === 'bootrom' && first ? first : await run(stage);
      first = undefined;
      return { server: found.server ? parseServerAddress(found.server, menu) : null, stage: found.stage, detail: found.detail, trace: found.trace };
    };
  }
  if (!serverString) serverString = cache.serverAddress ?? '';
  if (!serverString) throw usage('give --server ADDRESS (or --dhcp HOST:PORT, or a --state directory of a phone that booted before)');
  const server = parseServerAddress(serverString, menu);
  if (cache.serverAddress !== serverString) {
    cache.serverAddress = serverString;
    await state.save(cache);
  }
  const ca = flags.ca ? await readFile(flags.ca) : undefined;
  return {
    server,
    serverString,
    profile: {
      mac,
      model,
      ...(part ? { partNumber: part } : {}),
      bootromVersion: flags.bootromVersion ?? DEFAULT_BOOTROM,
      appVersion: flags.appVersion ?? DEFAULT_APP,
      tagSerial: flags.tagSerial === true,
    },
    state,
    settings: {
      tries: intFlag(flags.tries, '--tries', 1, 10, 3),
      retryWaitSec: intFlag(flags.retryWait, '--retry-wait', 0, 300, 1),
      uploadLogs: flags.noLogs !== true && (flags as { logs?: boolean }).logs !== false,
      ...(flags.bootromHttpPort !== undefined ? { bootromHttpPort: intFlag(flags.bootromHttpPort, '--bootrom-http-port', 1, 65535, 80) } : {}),
    },
    makeClient: clientFactory({ timeoutMs: intFlag(flags.timeout, '--timeout', 1, 600_000, 10_000), ca, rejectUnauthorized: flags.insecure !== true }),
    discovery,
    ...(discover ? { discover } : {}),
  };
}

/** The boot record as printed by --json: no Map-valued resolution, secrets already masked. */
export function recordJson(r: BootRecord, discovery?: PreparedPhone['discovery']): unknown {
  const { resolution: _r, ...rest } = r;
  return discovery ? { discovery, ...rest } : rest;
}

export function renderRecord(r: BootRecord): string {
  const lines: string[] = [];
  lines.push(`phone ${r.mac} (${r.model}${r.partNumber ? `, ${r.partNumber}` : ''}) ${r.kind} against ${redact(r.server)}${r.ftpsMode ? ` (${r.ftpsMode} FTPS)` : ''}`);
  // Administrator's Guide, Supported Provisioning Protocols: the protocol can differ per stage.
  lines.push(`stages: ${r.stages.map((s) => `${s.stage} ${s.protocol.toUpperCase()}${s.discovery ? ` (discovery: ${s.discovery.stage})` : ''}`).join(', ')}`);
  for (const q of r.requests) {
    lines.push(`  ${q.stage === 'bootrom' ? 'boot' : 'app '} ${q.method.padEnd(3)} ${q.url}${q.hangUp ? ' (header, hung up)' : ''}  ${q.status} ${q.wire}  ${q.bytes} B  ${q.ms} ms${q.attempt > 1 ? `  try ${q.attempt}` : ''}${q.address !== '' ? `  @${q.address}` : ''}`);
  }
  const img = r.image;
  lines.push(`image: ${img.file ?? '(none)'} ${img.action}${img.serverVersion ? ` server ${img.serverVersion}` : ''}${img.cachedVersion ? ` cached ${img.cachedVersion}` : ''}`);
  lines.push(`master: ${r.master ? `${r.master.file} from ${r.master.from}` : '(none)'}; configuration from ${r.configFrom}; application ${r.appVersion}`);
  for (const m of r.messages) if (m.startsWith(COULD_NOT_CONTACT) || /could not|failed|cached/.test(m)) lines.push(`! ${m}`);
  if (r.effective) lines.push(`effective configuration: ${Object.keys(r.effective.params).length} parameters (polyprov explain shows the same)`);
  lines.push(`took ${r.durationMs} ms`);
  return lines.join('\n') + '\n';
}

async function loadState(dir: string | undefined): Promise<{ store: DirState; data: Awaited<ReturnType<DirState['load']>> }> {
  if (!dir) throw usage('give --state DIR (the phone whose flash to edit)');
  const store = new DirState(dir);
  return { store, data: await store.load() };
}

export const register: RegisterCommand = (program, setExit) => {
  const phone = program.command('phone').description('one phone: its inventory on the server (show), or a virtual phone (boot, run, set, contact)');
  registerPhoneShow(phone, setExit);

  addBootOptions(phone.command('boot').description('boot a virtual phone once (bootROM then application) and print what it did'))
    .option('--json', 'print the boot record: every request, the image decision, the effective configuration')
    .action(async (flags: PhoneFlags) => {
      const p = await preparePhone(flags);
      const rec = await bootPhone({ server: p.server, profile: p.profile, state: p.state, settings: p.settings, env: { makeClient: p.makeClient }, ...(p.discover ? { discover: p.discover } : {}) });
      process.stdout.write(flags.json ? JSON.stringify(recordJson(rec, p.discovery), null, 2) + '\n' : renderRecord(rec));
      setExit(rec.contacted ? EXIT.ok : EXIT.problem);
    });

  addBootOptions(phone.command('run').description('boot, then stay up: answer SIP NOTIFY check-sync on the SIP port, poll per prov.polling.*'))
    .option('--sip <host:port>', 'SIP UDP and TCP listener (default 127.0.0.1:5060 or voIpProt.SIP.local.port)')
    .option('--sip-cert <file>', "SIP over TLS: the phone's device certificate (PEM); with --sip-key, turns the TLS listener on")
    .option('--sip-key <file>', 'SIP over TLS: the private key of --sip-cert (PEM)')
    .option('--sip-tls-port <port>', 'SIP over TLS port on the --sip host (default 5061; 0: any free port)')
    .option('--json', 'print each boot record as one JSON line')
    .action(async (flags: PhoneFlags & { sip?: string; sipCert?: string; sipKey?: string; sipTlsPort?: string }) => {
      // RFC 3261 §26.2: sips: (SIP over TLS) defaults to port 5061, where real phones answer with their device certificate.
      if ((flags.sipCert === undefined) !== (flags.sipKey === undefined)) throw usage('--sip-cert and --sip-key go together (the phone needs both for SIP over TLS)');
      if (flags.sipTlsPort !== undefined && flags.sipCert === undefined) throw usage('--sip-tls-port needs --sip-cert and --sip-key (the phone\'s certificate for SIP over TLS)');
      const sipTls = flags.sipCert
        ? { port: intFlag(flags.sipTlsPort, '--sip-tls-port', 0, 65535, 5061), cert: await readFile(flags.sipCert), key: await readFile(flags.sipKey!) }
        : undefined;
      const p = await preparePhone(flags);
      const code = await runPhone({
        ...p,
        sip: flags.sip,
        ...(sipTls ? { sipTls } : {}),
        onBoot: (rec) => process.stdout.write(flags.json ? JSON.stringify(recordJson(rec)) + '\n' : renderRecord(rec)),
        onEvent: (msg) => process.stderr.write(`phone ${p.profile.mac}: ${msg}\n`),
      });
      setExit(code);
    });

  phone
    .command('set')
    .description("change a parameter on the phone, as from its keypad: written to its <MAC>-phone.cfg and uploaded at the next boot")
    .requiredOption('--state <dir>', "the phone's flash (from phone boot --state)")
    .argument('<param>', 'parameter name, e.g. reg.1.label')
    .argument('[value]', 'new value (omit with --unset)')
    .option('--unset', 'remove the local override')
    .action(async (param: string, value: string | undefined, flags: { state?: string; unset?: boolean }) => {
      if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(param)) throw usage(`"${param}" is not a parameter name`);
      if (value === undefined && !flags.unset) throw usage('give a VALUE, or --unset');
      const { store, data } = await loadState(flags.state);
      setLocalParam(data, param, flags.unset ? undefined : value);
      await store.save(data);
      process.stdout.write(`${param} ${flags.unset ? 'removed from' : 'set in'} the local override file; uploaded at the next boot\n`);
      setExit(EXIT.ok);
    });

  const contact = phone.command('contact').description("edit the phone's local contact directory (uploaded as <MAC>-directory.xml at the next boot)");
  contact
    .command('add')
    .requiredOption('--state <dir>', "the phone's flash")
    .requiredOption('--ct <contact>', 'number or SIP URL (required, unique)')
    .option('--fn <first>', 'first name')
    .option('--ln <last>', 'last name')
    .option('--sd <n>', 'speed dial 1–9999')
    .option('--lb <label>', 'label')
    .action(async (flags: { state?: string; ct: string; fn?: string; ln?: string; sd?: string; lb?: string }) => {
      const { store, data } = await loadState(flags.state);
      addContact(data, { ct: flags.ct, ...(flags.fn ? { fn: flags.fn } : {}), ...(flags.ln ? { ln: flags.ln } : {}), ...(flags.sd ? { sd: flags.sd } : {}), ...(flags.lb ? { lb: flags.lb } : {}) });
      await store.save(data);
      process.stdout.write(`contact ${flags.ct} added; the directory is uploaded at the next boot\n`);
      setExit(EXIT.ok);
    });
  contact
    .command('remove')
    .requiredOption('--state <dir>', "the phone's flash")
    .requiredOption('--ct <contact>', 'the contact to remove')
    .action(async (flags: { state?: string; ct: string }) => {
      const { store, data } = await loadState(flags.state);
      if (!removeContact(data, flags.ct)) {
        process.stderr.write(`no contact ${flags.ct} in the local directory\n`);
        setExit(EXIT.problem);
        return;
      }
      await store.save(data);
      process.stdout.write(`contact ${flags.ct} removed; the directory is uploaded at the next boot\n`);
      setExit(EXIT.ok);
    });
  contact
    .command('list')
    .requiredOption('--state <dir>', "the phone's flash")
    .option('--json', 'print JSON')
    .action(async (flags: { state?: string; json?: boolean }) => {
      const { data } = await loadState(flags.state);
      const cs = listContacts(data);
      if (flags.json) process.stdout.write(JSON.stringify(cs, null, 2) + '\n');
      else for (const c of cs) process.stdout.write(`${c.ct}\t${[c.fn, c.ln].filter(Boolean).join(' ')}${c.sd ? `\tsd ${c.sd}` : ''}\n`);
      setExit(EXIT.ok);
    });
};

export type { Mac };
