// polyprov's FTP server alone in its own process, so bench/ftp.ts can read its CPU time from
// /proc/<pid>/stat exactly as it does for vsftpd.
// Usage: node --import tsx bench/ftp-server-child.ts DIR [PORT] [CERT KEY]; prints {"port":N} once listening.
// FTP_BENCH_SERVICE=core (default) runs the real boot service (src/server.ts: store, policy, audit)
// with the staging account on; =fake runs the FTP tests' file-backed fake, to measure the adapter alone
// (FTP_BENCH_HWM sets its read chunk: 64 KiB costs ~1.7× the server CPU of 256 KiB per 50 MB download).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFtpServer } from '../src/transports/ftp/server.ts';
import { FakeBootService } from '../test/ftp/fake-service.ts';

const [dir, port = '0', cert, key] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: ftp-server-child.ts DIR [PORT] [CERT KEY]\n');
  process.exit(2);
}
const tls = cert && key ? { cert: readFileSync(cert), key: readFileSync(key) } : undefined;
let close: () => Promise<void>;
let listenPort: number;
if (process.env.FTP_BENCH_SERVICE === 'fake') {
  const server = await startFtpServer({
    host: '127.0.0.1',
    port: Number(port),
    service: new FakeBootService(dir, { highWaterMark: Number(process.env.FTP_BENCH_HWM ?? 256 * 1024) }),
    tls,
    maxSessions: 1000,
    maxSessionsPerAddress: 1000,
  });
  listenPort = server.address().port;
  close = () => server.close();
} else {
  const { loadServerOptions } = await import('../src/options.ts');
  const { startServer } = await import('../src/server.ts');
  const { createLogger } = await import('../src/log.ts');
  const data = mkdtempSync(join(tmpdir(), 'polyprov-ftp-bench-data-'));
  const base = loadServerOptions({ root: dir, data }, {});
  const options = Object.freeze({
    ...base,
    ftp: `127.0.0.1:${port}`,
    cert,
    key,
    policy: 'open' as const,
    staging: true,
    rateLimitPerSec: 1_000_000,
    rateLimitBurst: 1_000_000,
  });
  const running = await startServer(options, createLogger('warn'));
  listenPort = running.listening.find((l) => l.transport === 'ftp')!.port;
  close = () => running.close();
}
process.stdout.write(`${JSON.stringify({ port: listenPort })}\n`);
const stop = (): void => {
  void close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
