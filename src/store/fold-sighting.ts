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

/**
 * Returns the row after this sighting. `prev` undefined means the phone was never seen.
 *
 * Versions are stage-aware: while the bootROM or the Updater runs, the version a phone reports is
 * the bootROM/Updater's own (the User-Agent carries it, polycom-facts §3.4 "depending on the boot
 * step, the version number will either be the BootROM version … or the SIP application version";
 * and DHCP option 60 in the bootROM "sub-option 4 and sub-option 5 will contain the same string",
 * polycom-facts §5). So an application version given with stage bootrom/updater is ignored, and
 * the application stage never overwrites the bootROM version with its own.
 *
 * Sightings may arrive out of order (batches from several nodes): the "latest" fields (address,
 * source, versions, error) only move forward in time; first/last seen and last boot are min/max.
 */
export function foldSighting(prev: Phone | undefined, s: Sighting): Phone {
  const p: Phone = prev ? { ...prev } : newPhone(s);
  const at = s.at.getTime();
  const newest = !prev || at >= prev.lastSeen.getTime();

  if (at < p.firstSeen.getTime()) p.firstSeen = s.at;
  if (at > p.lastSeen.getTime()) p.lastSeen = s.at;
  if (s.bootStart && (!p.lastBoot || at > p.lastBoot.getTime())) p.lastBoot = s.at;

  if (s.file && isSuccessStatus(s.file.status)) {
    if (s.file.op === 'read') p.fetchedCount += 1;
    else p.uploadedCount += 1;
  }

  // Identity facts fill gaps even from an older sighting; newer ones replace.
  if (s.model && (newest || !p.model)) p.model = s.model;
  if (s.partNumber && (newest || !p.partNumber)) p.partNumber = s.partNumber;

  const bootStage = s.stage === 'bootrom' || s.stage === 'updater';
  const app = bootStage ? undefined : s.appVersion;
  const boot = s.stage === 'application' || s.stage === undefined ? s.bootromVersion : (s.bootromVersion ?? s.appVersion);
  if (app && (newest || !p.appVersion)) p.appVersion = app;
  if (boot && (newest || !p.bootromVersion)) p.bootromVersion = boot;

  if (newest) {
    if (s.address) p.address = s.address;
    p.lastSource = s.source;
    if (s.error === null) delete p.lastError;
    else if (s.error !== undefined) p.lastError = s.error;
    if (s.sipUser) p.sipUser = s.sipUser;
    if (s.sipPort !== undefined) p.sipPort = s.sipPort;
  } else {
    if (s.sipUser && !p.sipUser) p.sipUser = s.sipUser;
    if (s.sipPort !== undefined && p.sipPort === undefined) p.sipPort = s.sipPort;
  }
  return p;
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
