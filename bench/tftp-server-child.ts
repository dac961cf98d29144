// polyprov's TFTP server alone in its own process, so bench/tftp.ts can read its CPU time from
// /proc/<pid>/stat exactly as it does for tftpd-hpa and atftpd. The service is the test suite's
// file-backed fake (real files, real streams), since the benchmark measures the TFTP engine.
// Usage: node --import tsx bench/tftp-server-child.ts DIR [PORT]; prints {"port":N} once listening.
import { availableParallelism } from 'node:os';
import { startTftpServer } from '../src/transports/tftp/server.ts';
import { FakeBootService } from '../test/tftp/fake-service.ts';

const [dir, port = '0'] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: tftp-server-child.ts DIR [PORT]\n');
  process.exit(2);
}
const server = await startTftpServer({
  host: '127.0.0.1',
  port: Number(port),
  service: new FakeBootService(dir),
  options: { tftpBlksizeMax: 65464, tftpWindowsizeMax: 64, tftpTimeoutMs: 1000, tftpRetries: 5, tftpMaxSessions: 2000 },
  // POLYPROV_TFTP_WORKERS=0 measures the single-threaded adapter.
  workers: Number(process.env.POLYPROV_TFTP_WORKERS ?? availableParallelism()),
});
process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
