// Builds the FileClient for one server address and one of its IP addresses.
import type http from 'node:http';
import type { FileClient } from './file-client.ts';
import { FtpFileClient } from './ftp-client.ts';
import { HttpFileClient } from './http-client.ts';
import type { ServerAddress } from './server-address.ts';
import { TftpFileClient } from './tftp-client.ts';

export interface ClientSettings {
  timeoutMs?: number;
  /** HTTPS: CA certificates to trust, and whether to check the server certificate at all. */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  /** Shared keep-alive agents for load generation. */
  httpAgent?: http.Agent;
  httpsAgent?: http.Agent;
  tftpBlksize?: number;
  tftpTimeoutMs?: number;
  tftpRetries?: number;
  /** Source address of every connection (boot storms give each phone its own 127.x.y.z). */
  localAddress?: string;
  /** Plain HTTP over one raw kept-alive connection per client instead of node:http (http-raw.ts). */
  rawHttp?: boolean;
}

export type ClientFactory = (server: ServerAddress, address: string) => FileClient;

export function clientFactory(s: ClientSettings = {}): ClientFactory {
  return (server, address) => {
    switch (server.protocol) {
      case 'http':
        return new HttpFileClient(server, { address, timeoutMs: s.timeoutMs, agent: s.httpAgent, localAddress: s.localAddress, raw: s.rawHttp });
      case 'https':
        return new HttpFileClient(server, { address, timeoutMs: s.timeoutMs, agent: s.httpsAgent, ca: s.ca, rejectUnauthorized: s.rejectUnauthorized, localAddress: s.localAddress });
      case 'ftp':
        return new FtpFileClient(server, { address, timeoutMs: s.timeoutMs, localAddress: s.localAddress });
      case 'ftps':
        return new FtpFileClient(server, { address, timeoutMs: s.timeoutMs, localAddress: s.localAddress, ca: s.ca, rejectUnauthorized: s.rejectUnauthorized });
      case 'tftp':
        return new TftpFileClient(server, { address, timeoutMs: s.tftpTimeoutMs, retries: s.tftpRetries, blksize: s.tftpBlksize, localAddress: s.localAddress });
    }
  };
}

