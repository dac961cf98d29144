// polyprov's FTP server alone in its own process, so bench/ftp.ts can read its CPU time from
// /proc/<pid>/stat exactly as it does for vsftpd. The service is the FTP tests' file-backed fake
// (real files, real read streams), since the benchmark measures the FTP adapter, not the core.
// Usage: node --import tsx bench/ftp-server-child.ts DIR [PORT] [CERT KEY]; prints {"port":N} once listening.
import { readFileSync } from 'node:fs';
import { startFtpServer } from '../src/transports/ftp/server.ts';
import { FakeBootService } from '../test/ftp/fake-service.ts';

const [dir, port = '0', cert, key] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: ftp-server-child.ts DIR [PORT] [CERT KEY]\n');
  process.exit(2);
}
const server = await startFtpServer({
  host: '127.0.0.1',
  port: Number(port),
  service: new FakeBootService(dir, { highWaterMark: Number(process.env.FTP_BENCH_HWM ?? 256 * 1024) }),
  tls: cert && key ? { cert: readFileSync(cert), key: readFileSync(key) } : undefined,
  maxSessions: 1000,
  maxSessionsPerAddress: 1000,
});
process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
