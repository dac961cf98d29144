// `polyprov dhcp inform` (a DHCPINFORM responder for sites that do not control their DHCP server)
// and `polyprov dhcp snippet` (configuration for ISC dhcpd, Kea and dnsmasq). Issue 8; docs/dhcp.md.
import type { Command } from 'commander';
import { ProvError } from '../errors.ts';
import { bootOptions, bootServerValue, type OptionType } from '../dhcp/boot-option.ts';
import { BOOTP_CLIENT_PORT, BOOTP_SERVER_PORT, defaultServerId, startInformResponder } from '../dhcp/inform.ts';
import { parseIPv4 } from '../dhcp/packet.ts';
import { SNIPPET_FORMATS, renderSnippet, type SnippetFormat } from '../dhcp/snippet.ts';
import { parseVlanIds } from '../dhcp/vlan.ts';
import { createLogger } from '../log.ts';
import { addStateOptions, loadServerOptions, parseHostPort } from '../options.ts';
import { openAdmin, type AdminSession } from '../core/open-core.ts';
import { EXIT, type RegisterCommand } from './exit.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

function usage(message: string, hint?: string): ProvError {
  return new ProvError('PP_USAGE', message, hint === undefined ? {} : { hint });
}

function intFlag(v: unknown, name: string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw usage(`${name} ${String(v)} is not an integer ${min}–${max}`);
  return n;
}

function optionCodes(list: string[]): number[] {
  return list.map((s) => intFlag(s, '--option', 1, 254));
}

function optionType(v: unknown): OptionType | undefined {
  if (v === undefined) return undefined;
  if (v === 'string' || v === 'ip') return v;
  throw usage(`--option-type ${String(v)} is not string or ip`, 'Guide, DHCP Menu: Boot Server Option Type is IP Address or String.');
}

export const register: RegisterCommand = (program: Command, setExit) => {
  const dhcp = program.command('dhcp').description('tell phones where the boot server is: DHCPINFORM responder and DHCP server snippets');

  addStateOptions(
    dhcp
      .command('inform')
      .description('answer DHCPINFORM with the boot server option (a secondary DHCP server; never leases addresses)')
      .requiredOption('--boot-server <url>', 'boot server to hand out (URL, host name or IPv4 address)')
      .option('--listen <host:port>', `where to listen (default 0.0.0.0:${BOOTP_SERVER_PORT}; port 67 needs privileges, see docs/dhcp.md)`)
      .option('--option <n>', 'boot server option: 66 (default), 160, or a custom 128–254; repeat for several', collect, [])
      .option('--option-type <type>', 'custom option type: string (default) | ip')
      .option('--only-polycom', 'answer only Polycom phones (option 60 enterprise 13885, or MAC OUI 00:04:f2, 64:16:7f, 48:25:67)')
      .option('--server-id <ip>', 'option 54 server identifier (default: the listen address, or the first non-loopback IPv4 address)')
      .option('--reply-port <n>', `client port replies go to (default ${BOOTP_CLIENT_PORT})`)
      .option('--relay-port <n>', `port replies go to at a relay agent (default ${BOOTP_SERVER_PORT})`)
      .option('--rate <n>', 'packets per second accepted per source address (default 20)')
      .option('--rate-burst <n>', 'burst per source address (default 40)')
      .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent'),
  ).action(async (flags: Record<string, unknown>) => {
    const listen = parseHostPort(String(flags.listen ?? `0.0.0.0:${BOOTP_SERVER_PORT}`), '--listen');
    const options = bootOptions(optionCodes(flags.option as string[]), optionType(flags.optionType));
    const bootServer = String(flags.bootServer);
    for (const o of options) bootServerValue(bootServer, o.type); // refuse a bad value before binding
    const serverId = flags.serverId !== undefined ? String(flags.serverId) : defaultServerId(listen.host);
    if (!serverId || !parseIPv4(serverId)) {
      throw usage(`no IPv4 server identifier${serverId ? ` (${serverId})` : ''} for option 54`, 'Give --server-id with an IPv4 address of this host (RFC 2132 §9.7).');
    }
    const level = String(flags.logLevel ?? 'info');
    const log = createLogger(level);

    // The inventory is shared with a running server when --data/--config (or their environment
    // variables) name its state; without them the responder records nothing.
    let state: AdminSession | undefined;
    if (flags.data !== undefined || flags.config !== undefined || process.env.POLYPROV_DATA || process.env.POLYPROV_CONFIG) {
      state = await openAdmin(loadServerOptions({ data: flags.data as string | undefined, config: flags.config as string | undefined }));
    }
    const inventory = state?.admin.inventory;
    const responder = await startInformResponder({
      host: listen.host,
      port: listen.port,
      bootServer,
      options,
      onlyPolycom: flags.onlyPolycom === true,
      serverId,
      replyPort: flags.replyPort === undefined ? BOOTP_CLIENT_PORT : intFlag(flags.replyPort, '--reply-port', 1, 65535),
      relayPort: flags.relayPort === undefined ? BOOTP_SERVER_PORT : intFlag(flags.relayPort, '--relay-port', 1, 65535),
      rateLimitPerSec: flags.rate === undefined ? 20 : intFlag(flags.rate, '--rate', 1, 1_000_000),
      rateLimitBurst: flags.rateBurst === undefined ? 40 : intFlag(flags.rateBurst, '--rate-burst', 1, 1_000_000),
      log,
      ...(inventory ? { recordSighting: (s) => inventory.recordSighting(s) } : {}),
    }).catch(async (err: unknown) => {
      await state?.close();
      const e = err as NodeJS.ErrnoException;
      // A runtime failure (exit 3), not a usage error: the flags were fine, the port was not.
      const hint = e.code === 'EACCES' ? ' Port 67 needs privileges: see docs/dhcp.md (CAP_NET_BIND_SERVICE, or a port redirect).' : e.code === 'EADDRINUSE' ? ' Another DHCP server or responder holds it.' : '';
      throw new Error(`cannot listen on ${listen.host}:${listen.port}: ${e.message}.${hint}`, { cause: err });
    });
    const a = responder.address();
    const out = process.stdout;
    out.write(`polyprov dhcp inform listening on ${a.address}:${a.port}\n`);
    out.write(`  boot server: ${bootServer} in option ${options.map((o) => `${o.code} (${o.type})`).join(', ')}\n`);
    out.write(`  server id:   ${serverId}; replies to client port ${flags.replyPort ?? BOOTP_CLIENT_PORT}${flags.onlyPolycom ? '; Polycom phones only' : ''}\n`);
    if (state) out.write('  inventory:   recording sightings of decoded phones\n');
    await new Promise<void>((resolveStop) => {
      const stop = (sig: string) => {
        out.write(`${sig}: stopping\n`);
        void responder
          .close()
          .then(() => state?.close())
          .then(() => resolveStop());
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    log.flush();
    setExit(EXIT.ok);
  });

  dhcp
    .command('snippet')
    .description('print DHCP server configuration that hands the boot server (and a VLAN) to Polycom phones only')
    .requiredOption('--boot-server <url>', 'boot server to hand out')
    .option('--format <format>', `${SNIPPET_FORMATS.join(' | ')} (default isc)`)
    .option('--option <n>', 'boot server option: 66 (default), 160, or a custom 128–254; repeat for several', collect, [])
    .option('--option-type <type>', 'custom option type: string (default) | ip')
    .option('--vlan <ids>', 'VLAN ID(s) for VLAN discovery, e.g. 10 or 10+20 (DVD string VLAN-A=10;)')
    .option('--vlan-option <n>', 'option carrying the VLAN: 128 (default; VLAN Discovery Fixed reads 128, 144, 157, 191) or a custom 128–254')
    .action((flags: Record<string, unknown>) => {
      const format = String(flags.format ?? 'isc');
      if (!(SNIPPET_FORMATS as readonly string[]).includes(format)) throw usage(`--format ${format} is not one of ${SNIPPET_FORMATS.join(', ')}`);
      let vlan: number[] | undefined;
      if (flags.vlan !== undefined) {
        const v = parseVlanIds(String(flags.vlan));
        if (!v.ok) throw usage(`--vlan: ${v.reason}`, 'Facts §5.3: VLAN IDs are 0–4095, joined by +.');
        vlan = v.ids;
      } else if (flags.vlanOption !== undefined) {
        throw usage('--vlan-option needs --vlan');
      }
      const text = renderSnippet({
        bootServer: String(flags.bootServer),
        format: format as SnippetFormat,
        options: optionCodes(flags.option as string[]),
        optionType: optionType(flags.optionType),
        ...(vlan ? { vlan } : {}),
        ...(flags.vlanOption !== undefined ? { vlanOption: intFlag(flags.vlanOption, '--vlan-option', 128, 254) } : {}),
      });
      process.stdout.write(text);
      setExit(EXIT.ok);
    });
};
