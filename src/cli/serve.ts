// `polyprov serve`: the boot server. Prints where it listens and the exact DHCP option
// 66/160 value to give the phones; SIGINT/SIGTERM stop it cleanly (in-flight uploads finish
// within a grace period or are discarded whole by the store). `--workers N` (default one per
// core) runs N worker processes behind the same listeners (src/cluster/); `--workers 1` is one
// process, as before.
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createLogger } from '../log.ts';
import { addStateOptions, loadServerOptions } from '../options.ts';
import { bootServerUrl, startServer } from '../server.ts';
import { tftpNotice } from '../core/policy.ts';
import { EXIT, type RegisterCommand } from './exit.ts';

export const register: RegisterCommand = (program: Command, setExit) => {
  addStateOptions(
    program
      .command('serve')
      .description('run the boot server phones provision from')
      .option('--root <dir>', 'provisioning tree served to phones (default: ./site)')
      .option('--http <host:port>', 'HTTP listener (default 0.0.0.0:8080 when no listener is given)')
      .option('--https <host:port>', 'HTTPS listener (needs --cert and --key)')
      .option('--cert <file>', 'TLS certificate, PEM')
      .option('--key <file>', 'TLS private key, PEM')
      .option('--client-ca <file>', 'CA bundle for phone client certificates (mutual TLS)')
      .option('--tls-legacy', 'also accept TLS 1.0/1.1 and legacy ciphers for old bootROMs')
      .option('--tftp <host:port>', 'TFTP listener')
      .option('--ftp <host:port>', 'FTP listener (explicit FTPS with AUTH TLS when --cert/--key are given)')
      .option('--ftps <host:port>', 'implicit FTPS listener')
      .option('--admin <host:port>', 'admin listener: /metrics (Prometheus), /healthz, the REST API under /api/v1 (keep it off the phones\' network)')
      .option('--admin-cert <file>', 'TLS certificate (PEM) for the admin listener: HTTPS')
      .option('--admin-key <file>', 'TLS private key (PEM) for the admin listener')
      .option('--policy <policy>', 'access policy: open | accounts (default accounts)')
      .option('--staging', 'accept the factory PlcmSpIp account (and enrol phones that use it)')
      .option('--workers <n>', 'worker processes behind the same listeners (default: one per core; 1: a single process)')
      .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent'),
  ).action(async (flags: Record<string, unknown>) => {
    const given = ['http', 'https', 'tftp', 'ftp', 'ftps'].some((k) => flags[k] !== undefined);
    const options = loadServerOptions(flags);
    const opts = given || options.http || options.https || options.tftp || options.ftp || options.ftps ? options : Object.freeze({ ...options, http: '0.0.0.0:8080' });
    const log = createLogger(opts.logLevel);
    mkdirSync(opts.data, { recursive: true, mode: 0o700 }); // it holds password hashes (issue 13 item 12)
    const count = opts.workers === 0 ? availableParallelism() : opts.workers;
    const server = count <= 1 ? await startServer(opts, log) : await (await import('../cluster/primary.ts')).startCluster(opts, count, log);
    const out = process.stdout;
    out.write(`polyprov serving ${resolve(opts.root)}\n`);
    out.write(`  state:  ${opts.storeUrl === 'sqlite' ? resolve(opts.data, 'polyprov.db') : opts.storeUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')}\n`);
    out.write(`  policy: ${opts.policy}${opts.staging ? ' (staging: PlcmSpIp accepted)' : ''}\n`);
    if (count > 1) out.write(`  workers: ${count} processes behind the same listeners\n`);
    for (const l of server.listening) {
      out.write(`  ${l.transport.padEnd(6)} listening on ${l.host}:${l.port}\n`);
    }
    if (server.listening.some((l) => l.transport === 'tftp')) for (const line of tftpNotice(opts)) out.write(`  tftp:  ${line}\n`);
    for (const w of server.warnings) process.stderr.write(`warning: ${w}\n`);
    const phoneFacing = server.listening.filter((l) => l.transport !== 'admin');
    const best = phoneFacing.find((l) => l.transport === 'https') ?? phoneFacing.find((l) => l.transport === 'http') ?? phoneFacing[0];
    if (best) {
      const url = bootServerUrl(best);
      out.write(`\nGive the phones this boot server (DHCP option 160 for http/https, option 66 otherwise; option 66 also works on every model):\n  ${url}\n`);
    }
    await new Promise<void>((resolveStop) => {
      const stop = (sig: string) => {
        out.write(`\n${sig}: stopping (in-flight transfers get 5 s)\n`);
        void server.close().then(resolveStop);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    setExit(EXIT.ok);
  });
};
