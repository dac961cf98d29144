// What the stages of one boot share: the phone's settings, its flash (the cache), the boot record
// being written, the current stage and the application version its User-Agent carries, and the
// boot server each stage found, and the one way to move a file (with the stage's protocol,
// retries and recording). boot.ts builds it;
// bootrom-stage.ts, application-stage.ts and master-lookup.ts use it.
import type { BootInput, BootRecord, BootSettings, Stage } from './boot-types.ts';
import type { FetchResult } from './file-client.ts';
import type { FileRef, ServerAddress } from './server-address.ts';
import type { PhoneCacheData } from './state.ts';

export interface BootContext {
  readonly input: BootInput;
  readonly settings: BootSettings;
  readonly record: BootRecord;
  /** The phone's flash, loaded at the start of the boot and saved at its end. */
  readonly cache: PhoneCacheData;
  readonly stage: Stage;
  /** The boot server of the current stage (given, or found by the stage's discovery). */
  readonly server: ServerAddress;
  /** Why the current stage has no boot server (its discovery ended in Stage 4), if so. */
  readonly noServer: string | undefined;
  /** Version of the application the phone runs (its image), for the Application User-Agent. */
  appVersion: string;
  /**
   * Starts a stage: runs its discovery when the phone has one; its log starts empty and its
   * requests carry its User-Agent and its protocol (stage-protocol.ts).
   */
  startStage(stage: Stage): Promise<void>;
  /** A message for the boot record and the stage's log (uploaded as <MAC>-boot.log / <MAC>-app.log). */
  note(msg: string): void;
  /** The current stage's log lines. */
  stageLog(): string;
  /** One file transfer with the stage's protocol, User-Agent, File Transmit Tries and Retry Wait. */
  transfer(ref: FileRef, op: 'get' | 'head' | 'put', body?: Buffer, append?: boolean): Promise<FetchResult>;
  /** A file in one of the master file's directories ('' = the boot-server path). */
  inDirectory(dir: string, name: string): { ref: FileRef; key: string };
}

/** Thrown inside a stage when no address of the boot server answered. */
export class Unreachable extends Error {}
