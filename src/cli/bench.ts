// `polyprov bench boot-storm`: N virtual phones booting at once (src/phone/storm.ts). Reports go
// to bench/results/ as JSON and Markdown; the README quotes them.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { ProvError } from '../errors.ts';
import { runStorm, stormMarkdown, type StormTransport } from '../phone/storm.ts';
import { EXIT, type RegisterCommand } from './exit.ts';

interface StormFlags {
  phones: string;
  concurrency: string;
  transport: string;
  ftpsMode: string;
  httpClient: string;
  server?: string;
  serverPid?: string;
  imageSize: string;
  stages: string;
  logs: boolean;
  keepAlive: boolean;
  ownAddresses: boolean;
  model: string;
  timeout: string;
  out: string;
  json?: boolean;
  progress: boolean;
}

function num(v: string, name: string, min: number, max: number, integer = true): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) throw new ProvError('PP_USAGE', `${name} ${v} is outside ${min}–${max}`);
  return n;
}

export const register: RegisterCommand = (program, setExit) => {
  const bench = program.command('bench').description('load benchmarks');
  bench
    .command('boot-storm')
    .description('boot N virtual phones at once against a boot server and report latency, errors, server CPU and memory')
    .requiredOption('--phones <n>', 'how many phones')
    .option('--concurrency <c>', 'phones booting at the same moment', '200')
    .option('--transport <t>', 'http, https, tftp, ftp or ftps', 'http')
    .option('--ftps-mode <mode>', 'FTPS: implicit (TLS from the first byte) or explicit (AUTH TLS on the FTP port)', 'implicit')
    .option('--http-client <impl>', 'HTTP: raw (one kept-alive connection per phone, spoken directly) or node (node:http agent per phone)', 'raw')
    .option('--server <url>', 'a running boot server (default: generate a tree and start polyprov serve)')
    .option('--server-pid <pid>', "the running server's pid, for its CPU and RSS figures")
    .option('--image-size <MB>', 'size of the generated application image', '8')
    .option('--stages <s>', 'full (bootROM then application) or application (a restart)', 'full')
    .option('--no-logs', 'skip the <MAC>-boot.log / <MAC>-app.log uploads')
    .option('--no-own-addresses', 'all phones share one source address (per-address server limits then apply to the whole storm)')
    .option('--no-keep-alive', 'a new HTTP connection per file (HTTPS always makes one)')
    .option('--model <model>', 'model of the virtual phones', 'VVX410')
    .option('--timeout <ms>', 'per-transfer timeout', '20000')
    .option('--out <dir>', 'where the JSON and Markdown reports go', 'bench/results')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print the report as JSON')
    .action(async (flags: StormFlags) => {
      const transport = flags.transport as StormTransport;
      if (!['http', 'https', 'tftp', 'ftp', 'ftps'].includes(transport)) throw new ProvError('PP_USAGE', `--transport ${flags.transport} is not http, https, tftp, ftp or ftps`);
      if (flags.stages !== 'full' && flags.stages !== 'application') throw new ProvError('PP_USAGE', `--stages ${flags.stages} is not full or application`);
      if (flags.ftpsMode !== 'implicit' && flags.ftpsMode !== 'explicit') throw new ProvError('PP_USAGE', `--ftps-mode ${flags.ftpsMode} is not implicit or explicit`);
      if (flags.httpClient !== 'raw' && flags.httpClient !== 'node') throw new ProvError('PP_USAGE', `--http-client ${flags.httpClient} is not raw or node`);
      const phones = num(flags.phones, '--phones', 1, 1_000_000);
      const bar = flags.progress && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'boot storm [{bar}] {value}/{total} phones · {errors} failed · {eta}s left', etaBuffer: 200 }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(phones, 0, { errors: 0 });
      let lastLine = 0;
      const report = await runStorm({
        phones,
        concurrency: num(flags.concurrency, '--concurrency', 1, 100_000),
        transport,
        ftpsMode: flags.ftpsMode,
        httpClient: flags.httpClient,
        server: flags.server,
        serverPid: flags.serverPid ? num(flags.serverPid, '--server-pid', 1, 2 ** 31) : undefined,
        imageSizeMb: num(flags.imageSize, '--image-size', 0, 4096, false),
        stages: flags.stages,
        uploadLogs: flags.logs,
        keepAlive: flags.keepAlive,
        ownAddresses: flags.ownAddresses,
        model: flags.model,
        timeoutMs: num(flags.timeout, '--timeout', 1, 600_000),
        log: (m) => process.stderr.write(`${m}\n`),
        onProgress: (done, total, errors) => {
          if (bar) bar.update(done, { errors });
          else if (done === total || Date.now() - lastLine > 2000) {
            lastLine = Date.now();
            process.stderr.write(`${done}/${total} phones booted, ${errors} failed\n`);
          }
        },
      });
      bar?.stop();
      await mkdir(flags.out, { recursive: true });
      const base = join(flags.out, `boot-storm-${transport}${transport === 'ftps' && flags.ftpsMode === 'explicit' ? '-explicit' : ''}${flags.stages === 'application' ? '-app' : ''}-${phones}-${report.when.slice(0, 19).replace(/[:T]/g, '-')}`);
      await writeFile(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
      const md = stormMarkdown(report);
      await writeFile(`${base}.md`, md);
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : `${md}\nreports: ${base}.json, ${base}.md\n`);
      setExit(report.failedBoots === 0 ? EXIT.ok : EXIT.problem);
    });
};
