// A boot server in a child process, for tests that measure the server process apart from its
// clients (descriptors in /proc/<pid>/fd). Argument: a JSON object of server options. Prints
// `http listening on 127.0.0.1:PORT` once it listens; runs until killed.
import { pino } from 'pino';
import { loadServerOptions } from '../../src/options.ts';
import { startServer } from '../../src/server.ts';

const options = loadServerOptions({ http: '127.0.0.1:0', ...JSON.parse(process.argv[2] ?? '{}') }, {});
const server = await startServer(options, pino({ level: 'error' }, pino.destination(2)));
const l = server.listening.find((x) => x.transport === 'http')!;
process.stdout.write(`http listening on 127.0.0.1:${l.port}\n`);
