// Which protocol each stage of the boot speaks to the boot server. SEED-AG, Supported Provisioning
// Protocols: "The protocol that will be used to transfer files from the boot server depends on
// several factors including the phone model and whether the bootROM or SIP application stage of
// provisioning is in progress", and its table (models 301 … 650, 4000):
//
//   Specified Protocol | Protocol used by bootROM | Protocol used by SIP Application
//   FTP                | FTP                      | FTP
//   TFTP               | TFTP                     | TFTP
//   HTTP               | HTTP                     | HTTP
//   HTTPS              | HTTP                     | HTTPS
//
// with the note "For downloading the bootROM and application images to the phone, the secure HTTPS
// protocol is not available." FTPS (Server Type 4) is not in the table; both stages speak it. So a
// boot server reached only over HTTPS is found by the application and never by the bootROM, which
// is why `polyprov serve` warns when it listens on HTTPS alone.
import type { Stage } from './boot-types.ts';
import { DEFAULT_PORTS, type FileRef, type Protocol, type ServerAddress } from './server-address.ts';

export function stageProtocol(specified: Protocol, stage: Stage): Protocol {
  return stage === 'bootrom' && specified === 'https' ? 'http' : specified;
}

/**
 * The port the bootROM's HTTP reaches for an HTTPS address: `override` when given (a server whose
 * HTTP listener is not where the documents put it), else HTTP's own port 80 for an address on
 * HTTPS's default port, else the address's port as written (the URL with its scheme changed).
 */
export function bootromHttpPort(server: ServerAddress, override?: number): number {
  if (override !== undefined) return override;
  return server.port === DEFAULT_PORTS.https ? DEFAULT_PORTS.http : server.port;
}

/**
 * A file reference as the given stage reaches it. The HTTP form of an HTTPS address is built once
 * per address object: the transfer layer keeps its clients and URL bases per address object.
 */
export function refForStage(ref: FileRef, stage: Stage, httpPort?: number): FileRef {
  if (stageProtocol(ref.server.protocol, stage) === ref.server.protocol) return ref;
  let plain = bootromForms.get(ref.server);
  if (!plain || plain.port !== bootromHttpPort(ref.server, httpPort)) {
    plain = { ...ref.server, protocol: 'http', port: bootromHttpPort(ref.server, httpPort) };
    bootromForms.set(ref.server, plain);
  }
  return { ...ref, server: plain };
}

const bootromForms = new WeakMap<ServerAddress, ServerAddress>();
