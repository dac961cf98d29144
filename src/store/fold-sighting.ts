// Folding a sighting into a phone's inventory row. Shared by every backend so the rules live once:
// a backend reads the row (locked, in a transaction), calls foldSighting, and writes it back.
import type { Phone, Sighting } from './store.ts';

/** Boot starts kept per phone for `phone show` (every backend). */
export const BOOTS_KEPT_PER_PHONE = 20;

/**
 * Whether a transfer status counts as a file fetched or stored. Statuses are in the transport's
 * terms (src/core/request.ts TransferOutcome): HTTP codes (`200`, `206`, `304`), `tftp:ok`,
 * `ftp:226`/`ftp:250`.
 */
export function isSuccessStatus(status: string): boolean {
  if (status === '200' || status === '304' || status === 'tftp:ok' || status === 'stored') return true; // the usual ones, no regex
  return /^(?:2\d\d|304|ok|stored)$/i.test(status) || /^tftp:ok$/i.test(status) || /^ftps?:2\d\d$/i.test(status);
}

export function newPhone(s: Sighting): Phone {
  return {
    mac: s.mac,
    firstSeen: s.at,
    lastSeen: s.at,
    fetchedCount: 0,
    uploadedCount: 0,
    overrideLocked: false,
  };
}

/** The inventory fields whose value is "the latest one reported"; each keeps the time it was set. */
export type TimedField = 'model' | 'partNumber' | 'appVersion' | 'bootromVersion' | 'address' | 'lastSource' | 'lastError' | 'sipUser' | 'sipPort' | 'master';
/** When each timed field was last set (ms since the epoch); stored beside the row. */
export type FieldTimes = Partial<Record<TimedField | 'overrideLockedAt', number>>;

/** A phone row together with the times of its fields: what a backend reads, folds and writes back. */
export interface PhoneState {
  phone: Phone;
  times: FieldTimes;
}

/**
 * Returns the state after this sighting. `prev` undefined means the phone was never seen.
 *
 * Versions are stage-aware: while the bootROM or the Updater runs, the version a phone reports is
 * the bootROM/Updater's own (the User-Agent carries it, polycom-facts §3.4 "depending on the boot
 * step, the version number will either be the BootROM version … or the SIP application version";
 * and DHCP option 60 in the bootROM "sub-option 4 and sub-option 5 will contain the same string",
 * polycom-facts §5). So an application version given with stage bootrom/updater is ignored (its
 * value counts as the bootROM/Updater version when no bootromVersion is given), and the
 * application stage never overwrites the bootROM version with its own.
 *
 * Sightings may arrive out of order (batches from several nodes). The result does not depend on
 * the order: each "latest" field takes the value of the newest sighting that reports it (its time
 * is kept in `times`), first/last seen and last boot are min/max, counters are sums.
 */
export function foldSighting(prev: PhoneState | undefined, s: Sighting): PhoneState {
  const state: PhoneState = prev ? { phone: { ...prev.phone }, times: { ...prev.times } } : { phone: newPhone(s), times: {} };
  foldSightingInto(state, s, prev !== undefined);
  return state;
}

/**
 * foldSighting on a state the caller owns, changed in place (a backend folding a batch's many
 * sightings of one phone copies its row once, not once per sighting). `known`: the state is a
 * stored row's (its fields set before field times were kept count as set at its lastSeen).
 */
export function foldSightingInto(state: PhoneState, s: Sighting, known = true): void {
  const { phone: p, times } = state;
  const at = s.at.getTime();
  // A field set before field times were kept counts as set at lastSeen of the row as it was read.
  const legacyAt = known ? p.lastSeen.getTime() : -Infinity;

  if (at < p.firstSeen.getTime()) p.firstSeen = s.at;
  if (at > p.lastSeen.getTime()) p.lastSeen = s.at;
  if (s.bootStart && (!p.lastBoot || at > p.lastBoot.getTime())) p.lastBoot = s.at;

  if (s.file && isSuccessStatus(s.file.status)) {
    if (s.file.op === 'read') p.fetchedCount += 1;
    else p.uploadedCount += 1;
  }

  // The newest override upload decides whether the phone's served override is stripped.
  if (s.overrideLocked !== undefined && (times.overrideLockedAt ?? -Infinity) <= at) {
    p.overrideLocked = s.overrideLocked;
    times.overrideLockedAt = at;
  }
  if (s.model) setTimed(p, times, legacyAt, at, 'model', s.model);
  if (s.partNumber) setTimed(p, times, legacyAt, at, 'partNumber', s.partNumber);
  const bootStage = s.stage === 'bootrom' || s.stage === 'updater';
  const app = bootStage ? undefined : s.appVersion;
  const boot = bootStage ? (s.bootromVersion ?? s.appVersion) : s.bootromVersion;
  if (app) setTimed(p, times, legacyAt, at, 'appVersion', app);
  if (boot) setTimed(p, times, legacyAt, at, 'bootromVersion', boot);
  if (s.address) setTimed(p, times, legacyAt, at, 'address', s.address);
  setTimed(p, times, legacyAt, at, 'lastSource', s.source);
  if (s.error !== undefined) setTimed(p, times, legacyAt, at, 'lastError', s.error ?? undefined);
  if (s.sipUser) setTimed(p, times, legacyAt, at, 'sipUser', s.sipUser);
  if (s.sipPort !== undefined) setTimed(p, times, legacyAt, at, 'sipPort', s.sipPort);
  if (s.master) setTimed(p, times, legacyAt, at, 'master', s.master);
}

/** A "latest value" field: set when this sighting is not older than the value it has. */
function setTimed<K extends TimedField>(p: Phone, times: FieldTimes, legacyAt: number, at: number, k: K, v: Phone[K] | undefined): void {
  const was = times[k] ?? (p[k] !== undefined ? legacyAt : -Infinity);
  if (at < was) return;
  if (v === undefined) delete p[k];
  else p[k] = v;
  times[k] = at;
}

/** The version a booting stage reported, for the boot timeline. */
export function bootVersion(s: Sighting): string | undefined {
  if (s.stage === 'bootrom' || s.stage === 'updater') return s.bootromVersion ?? s.appVersion;
  return s.appVersion ?? s.bootromVersion;
}

/** Normalises a MAC for storage and lookups: 12 lowercase hex digits (separators removed). */
export function macKey(mac: string): string {
  return mac.toLowerCase().replace(/[^0-9a-f]/g, '');
}

/** A MAC prefix for `phones --mac-prefix`, normalised like macKey. */
export function macPrefixKey(prefix: string): string {
  return macKey(prefix);
}
