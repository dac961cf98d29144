// Starts a real boot server in-process on 127.0.0.1 port 0 for a test, and stops it after.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadServerOptions, type ServerOptions } from '../../src/options.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { tempDir } from './tree.ts';

export interface TestServer extends RunningServer {
  url: string;
  port: number;
  /** Everything the server logged, one JSON line per entry. */
  logs: string[];
}

export async function startTestServer(root: string, opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const log = pino({ level: 'debug', redact: { paths: ['req.headers.authorization', '*.password'], censor: '[secret]' } }, sink);
  const base = loadServerOptions({ root, data: tempDir(), http: '127.0.0.1:0' }, {});
  const options = Object.freeze({ ...base, rateLimitPerSec: 100_000, rateLimitBurst: 100_000, ...opts });
  const server = await startServer(options, log);
  const l = server.listening.find((x) => x.transport === 'http' || x.transport === 'https')!;
  return Object.assign(server, { url: `${l.transport}://127.0.0.1:${l.port}`, port: l.port, logs });
}
