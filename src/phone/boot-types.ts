// The shapes of a virtual phone's boot: who the phone is, its settings, and the record of what it
// did (every request, the image decision, the effective configuration). boot.ts fills them in.
import type { toExplainJson, Resolution } from '../config/resolver.ts';
import type { Mac, ModelToken, PartNumber } from '../config/types.ts';
import type { Clock } from '../domain.ts';
import type { ClientFactory } from './clients.ts';
import type { FetchResult } from './file-client.ts';
import type { FtpsMode, Protocol, ServerAddress } from './server-address.ts';
import type { PhoneStateStore } from './state.ts';

export const COULD_NOT_CONTACT = 'Could not contact boot server using existing configuration';

export interface PhoneProfile {
  mac: Mac;
  model: ModelToken;
  partNumber?: PartNumber;
  bootromVersion: string;
  /** Application version assumed when the phone has no image of known version yet. */
  appVersion: string;
  /** Tag SN to UA (SEED-AG, Server Menu): the MAC in the User-Agent. */
  tagSerial?: boolean;
}

export interface BootSettings {
  /** File Transmit Tries, 1–10 (SEED-AG, Server Menu; default 3). */
  tries: number;
  /** Retry Wait in seconds, 0–300 (default 1), measured from the start of an attempt. */
  retryWaitSec: number;
  /** Redundant boot servers tried per name (SEED-AG: "the maximum number is eight"). */
  maxServers: number;
  /** Compute the effective configuration with the resolver (off in boot storms). */
  computeEffective: boolean;
  /** Upload <MAC>-boot.log and <MAC>-app.log. */
  uploadLogs: boolean;
  /**
   * Server Type HTTPS: the port the bootROM's HTTP reaches (SEED-AG, Supported Provisioning
   * Protocols: the bootROM uses HTTP). Default: 80 for an address on port 443, else its own port.
   */
  bootromHttpPort?: number;
}

export const DEFAULT_SETTINGS: BootSettings = { tries: 3, retryWaitSec: 1, maxServers: 8, computeEffective: true, uploadLogs: true };

export interface BootEnv {
  clock: Clock;
  makeClient: ClientFactory;
  /** Every address of a name, in order (dns.lookup all). */
  lookup?: (host: string) => Promise<string[]>;
}

export type Stage = 'bootrom' | 'application';
export type BootKind = 'reboot' | 'restart' | 'check-sync';

export interface RequestRecord {
  stage: Stage;
  method: 'GET' | 'PUT';
  /** The file's URL (credentials left out). */
  url: string;
  address: string;
  /** Read the image header only, then hung up. */
  hangUp?: boolean;
  attempt: number;
  status: FetchResult['status'];
  wire: string;
  bytes: number;
  ms: number;
  userAgent?: string;
  error?: string;
}

/** How one stage reached its boot server. */
export interface StageRecord {
  stage: Stage;
  /** The boot server as this stage spoke to it (credentials left out). */
  server: string;
  protocol: Protocol;
  /** The stage's own discovery (white paper, Stage 4: the bootROM and the application each run it). */
  discovery?: { stage: string; detail: string; trace: string[] };
}

/**
 * One stage's provisioning discovery (white paper, Discovering the Provisioning Server): the boot
 * server it found, or null for Stage 4 (the cached configuration).
 */
export interface StageDiscovery {
  server: ServerAddress | null;
  stage: string;
  detail: string;
  trace: string[];
}

export interface ImageDecision {
  file: string | null;
  action: 'none' | 'unchanged' | 'downloaded' | 'not-found' | 'error' | 'skipped';
  serverVersion?: string;
  cachedVersion?: string;
  bytes?: number;
}

export interface BootRecord {
  mac: Mac;
  model: ModelToken;
  partNumber?: PartNumber;
  server: string;
  /** Server Type FTPS only: explicit (AUTH TLS) or implicit. */
  ftpsMode?: FtpsMode;
  kind: BootKind;
  startedAt: string;
  durationMs: number;
  /** Why a check-sync turned into a reboot. */
  rebooted?: string;
  master: { file: string; from: 'server' | 'cache' } | null;
  image: ImageDecision;
  appVersion: string;
  configFrom: 'server' | 'cache' | 'none';
  /** Each stage that ran, in order, with the protocol it used. */
  stages: StageRecord[];
  requests: RequestRecord[];
  uploads: { file: string; status: FetchResult['status'] }[];
  messages: string[];
  /** True when the phone reached its server for the master file in the application stage. */
  contacted: boolean;
  effective?: ReturnType<typeof toExplainJson>;
  resolution?: Resolution;
}

export interface BootInput {
  server: ServerAddress;
  profile: PhoneProfile;
  state: PhoneStateStore;
  kind?: BootKind;
  settings?: Partial<BootSettings>;
  env?: Partial<BootEnv>;
  /** Runs discovery at the start of each stage; without it every stage uses `server`. */
  discover?: (stage: Stage) => Promise<StageDiscovery>;
}
