// polyprov's TFTP server alone in its own process, so bench/tftp.ts can read its CPU time exactly
// as it does for tftpd-hpa and atftpd.
// Usage: node --import tsx bench/tftp-server-child.ts DIR [PORT]; prints {"port":N} once listening.
//
// By default it runs the real boot service (src/server.ts: tree, policy, audit), open policy, rate
// limit off: the product, as `polyprov serve --tftp` runs it. TFTP_BENCH_SERVICE=fake runs the TFTP
// tests' file-backed fake service instead (real files, real streams), to measure the TFTP engine
// alone; it reads in 256 KiB chunks, as the core does for the files it streams
// (src/config/tree-source.ts); TFTP_BENCH_READ_CHUNK=65536 gives the fake's own default.
// polyprov runs with one read worker per core (os.availableParallelism()), the setting docs/tftp.md
// recommends on a multi-core host; POLYPROV_TFTP_WORKERS=0 measures the main-thread default
// (tftpWorkers 0).
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServerOptions } from '../src/options.ts';
import { startTftpServer } from '../src/transports/tftp/server.ts';
import { FakeBootService } from '../test/tftp/fake-service.ts';

const [dir, port = '0'] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: tftp-server-child.ts DIR [PORT]\n');
  process.exit(2);
}
const data = mkdtempSync(join(tmpdir(), 'polyprov-tftp-bench-data-'));
const base = loadServerOptions({ root: dir, data }, {});
const workers = Number(process.env.POLYPROV_TFTP_WORKERS ?? availableParallelism());
const tftpOptions = { tftpBlksizeMax: 65464, tftpWindowsizeMax: 64, tftpTimeoutMs: 1000, tftpRetries: 5, tftpMaxSessions: 2000 };
let close: () => Promise<void>;
let listenPort: number;
if (process.env.TFTP_BENCH_SERVICE !== 'fake') {
  const { startServer } = await import('../src/server.ts');
  const { createLogger } = await import('../src/log.ts');
  const options = Object.freeze({
    ...base,
    ...tftpOptions,
    tftp: `127.0.0.1:${port}`,
    tftpWorkers: workers,
    policy: 'open' as const,
    rateLimitPerSec: 1_000_000,
    rateLimitBurst: 1_000_000,
  });
  const running = await startServer(options, createLogger('warn'));
  listenPort = running.listening.find((l) => l.transport === 'tftp')!.port;
  close = () => running.close();
} else {
  const server = await startTftpServer({
    host: '127.0.0.1',
    port: Number(port),
    service: new FakeBootService(dir, undefined, Number(process.env.TFTP_BENCH_READ_CHUNK ?? 256 * 1024)),
    options: tftpOptions,
    workers,
  });
  listenPort = server.address().port;
  close = () => server.close();
}
process.stdout.write(`${JSON.stringify({ port: listenPort, workers })}\n`);
const stop = (): void => {
  void close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
