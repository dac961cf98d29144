// The core's access rules as one cross product: principal × transport × file kind × operation →
// the outcome, under the `open` and `accounts` policies, for a phone bound to its own account and
// one that is not. Each expected outcome is written literally in TABLE below (a letter per
// operation, legend in OUTCOME); nothing here recomputes the rule the core applies. The core runs
// whole (createBootService → handle) over the in-memory store, on a tiny tree in a temp dir.
// Sources: Administrator's Guide, Boot Server Security Policy (per-phone accounts, "the phone's
// account must be able to list files"); Deploying Phones From the Boot Server (PlcmSpIp);
// white paper, Master Configuration File (upload directories); README Access policy and TFTP.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Mac } from '../domain.ts';
import { loadServerOptions, type ServerOptions } from '../options.ts';
import { makeAccount } from './digest.ts';
import { openMemoryStore } from '../../test/support/memory-store.ts';
import { FakeFleet } from '../../test/support/fake-fleet.ts';
import { createBootService } from './boot-service.ts';
import type { BootRequest, BootResult, Credentials, Transport } from './request.ts';

const MAC1 = '0004f2000001' as Mac; // the phone whose files are asked for
const MAC2 = '0004f2000002' as Mac; // another phone, always bound to its own account
const REALM = 'polyprov';

// ---- the dimensions ------------------------------------------------------------------------

type PrincipalName = 'anonymous' | 'site account' | 'own phone account' | "other phone's account" | 'PlcmSpIp staging on' | 'PlcmSpIp staging off' | 'client cert for the MAC';

interface Principal {
  name: PrincipalName;
  /** The staging switch this principal is tried under. */
  staging: boolean;
  credentials(t: Transport): Credentials | undefined;
}

const login = (user: string, password: string) => (t: Transport): Credentials =>
  t === 'ftp' || t === 'ftps' ? { kind: 'login', user, password } : { kind: 'basic', user, password };

const PRINCIPALS: Record<PrincipalName, Principal> = {
  anonymous: { name: 'anonymous', staging: false, credentials: () => undefined },
  'site account': { name: 'site account', staging: false, credentials: login('site', 'site-pw') },
  'own phone account': { name: 'own phone account', staging: false, credentials: login('p1', 'p1-pw') },
  "other phone's account": { name: "other phone's account", staging: false, credentials: login('p2', 'p2-pw') },
  'PlcmSpIp staging on': { name: 'PlcmSpIp staging on', staging: true, credentials: login('PlcmSpIp', 'PlcmSpIp') },
  'PlcmSpIp staging off': { name: 'PlcmSpIp staging off', staging: false, credentials: login('PlcmSpIp', 'PlcmSpIp') },
  'client cert for the MAC': {
    name: 'client cert for the MAC',
    staging: false,
    credentials: () => ({ kind: 'cert', subjectCN: `SEP${MAC1.toUpperCase()}`, subjectAltNames: [], fingerprint256: 'AA:BB' }),
  },
};

/** Transport as the row names it; TFTP twice: from a network in tftpSecretAllow (loopback, the default) and from another. */
type Via = 'http' | 'https' | 'ftp' | 'ftps' | 'tftp allow-listed' | 'tftp other net';
const VIA: Record<Via, { transport: Transport; address: string }> = {
  http: { transport: 'http', address: '192.0.2.50' },
  https: { transport: 'https', address: '192.0.2.50' },
  ftp: { transport: 'ftp', address: '192.0.2.50' },
  ftps: { transport: 'ftps', address: '192.0.2.50' },
  'tftp allow-listed': { transport: 'tftp', address: '127.0.0.1' },
  'tftp other net': { transport: 'tftp', address: '192.0.2.50' },
};

/** File kinds, in the column order of TABLE. */
const KINDS = [
  { name: 'master file', path: '000000000000.cfg' },
  { name: 'shared config', path: 'site.cfg' },
  { name: '<MAC>.cfg', path: `${MAC1}.cfg` },
  // Issue 13 item 6: a secret that only the phone's own master lists is protected like its MAC files.
  { name: 'bob.cfg (a secret only <MAC>.cfg lists)', path: 'bob.cfg' },
  { name: '<MAC>-phone.cfg override', path: `overrides/${MAC1}-phone.cfg` },
  { name: 'contact directory', path: `contacts/${MAC1}-directory.xml` },
  { name: 'log', path: `logs/${MAC1}-app.log` },
  { name: 'image', path: 'sip.ld' },
  { name: 'hostile path', path: '../../etc/passwd' },
  { name: 'missing file', path: 'nope.cfg' },
] as const;

/**
 * Issue 14, Serving: `managed/<MAC>.cfg` carries the phone's secrets, so it is that phone's file
 * under every access rule. Not a column of TABLE: each row's <MAC>.cfg cell is expected for it too,
 * with a fleet (test/support/fake-fleet.ts) that manages the MAC in the default tenant.
 */
const MANAGED = { name: 'managed/<MAC>.cfg (issue 14, as <MAC>.cfg)', path: `managed/${MAC1}.cfg`, like: 2 } as const;

/** Operations, in the order of the letters of each TABLE cell (list: FTP LIST of the file's own path, RFC 959 §4.1.3). */
const OPS = ['read', 'write', 'delete', 'stat', 'list'] as const;

/** One letter per outcome. Refusals are the PP_* code the core returns. */
const OUTCOME: Record<string, string> = {
  o: 'served',
  l: 'listed',
  s: 'stored',
  d: 'deleted',
  N: 'PP_NOT_FOUND',
  R: 'PP_READ_ONLY',
  A: 'PP_AUTH_REQUIRED',
  F: 'PP_AUTH_FAILED',
  P: 'PP_AUTH_WRONG_PHONE',
  M: 'PP_WRITE_OTHER_MAC',
  T: 'PP_SECRET_TRANSPORT',
  H: 'PP_PATH_HOSTILE',
};

// ---- the table -----------------------------------------------------------------------------
// One row per policy, binding, principal and transport. Columns are the KINDS in order; each cell
// is five letters, one per operation (read, write, delete, stat, list). The tree: a master with
// OVERRIDES_DIRECTORY="overrides", CONTACTS_DIRECTORY="contacts", LOG_FILE_DIRECTORY="logs";
// <MAC>.cfg is the phone's own master (it lists <MAC>-line.cfg with its SIP password, and bob.cfg
// with line 2's, which no other master lists); an override for the MAC is already stored, the contact
// directory exists only in the tree, no log was uploaded yet.
//
// "bound": the MAC has its own confirmed account (p1); "unbound": it has none (PlcmSpIp staging
// would enrol it). Another phone (MAC2) is always bound to p2.

type Policy = 'open' | 'accounts';
type Binding = 'bound' | 'unbound';

const TABLE: Array<[Policy, Binding, PrincipalName, Via, string]> = [
  //                                                                    master shared <MAC> bob.cfg -phone dir log image hostile missing
  // open policy, bound phone
  ['open',     'bound',   'anonymous',                'http',              'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  ['open',     'bound',   'anonymous',                'https',             'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  ['open',     'bound',   'anonymous',                'ftp',               'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  ['open',     'bound',   'anonymous',                'ftps',              'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  // issue 13 item 8: no credentials over TFTP, so not the files of a phone with its own account (tftpBoundPhones off)
  ['open',     'bound',   'anonymous',                'tftp allow-listed', 'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  ['open',     'bound',   'anonymous',                'tftp other net',    'oRRol oRRol ARRAA ARRAA ATTAA ATTAA ATTAA oRRol HHHHH NRRNN'],
  ['open',     'bound',   'site account',             'http',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'site account',             'https',             'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'site account',             'ftp',               'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'site account',             'ftps',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'own phone account',        'http',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'bound',   'own phone account',        'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'bound',   'own phone account',        'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'bound',   'own phone account',        'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'bound',   "other phone's account",    'http',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   "other phone's account",    'https',             'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   "other phone's account",    'ftp',               'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   "other phone's account",    'ftps',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'PlcmSpIp staging on',      'http',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'PlcmSpIp staging on',      'https',             'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'PlcmSpIp staging on',      'ftp',               'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'PlcmSpIp staging on',      'ftps',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['open',     'bound',   'PlcmSpIp staging off',     'http',              'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['open',     'bound',   'PlcmSpIp staging off',     'https',             'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  // issue 13 item 5: in `open` any FTP login reads, as anonymous does
  ['open',     'bound',   'PlcmSpIp staging off',     'ftp',               'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  ['open',     'bound',   'PlcmSpIp staging off',     'ftps',              'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  ['open',     'bound',   'client cert for the MAC',  'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],

  // open policy, unbound phone
  ['open',     'unbound', 'anonymous',                'http',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'anonymous',                'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'anonymous',                'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'anonymous',                'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'anonymous',                'tftp allow-listed', 'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'anonymous',                'tftp other net',    'oRRol oRRol TRRTT TRRTT TTTTT TTTTT NTTNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'site account',             'http',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'site account',             'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'site account',             'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'site account',             'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', "other phone's account",    'http',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'unbound', "other phone's account",    'https',             'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'unbound', "other phone's account",    'ftp',               'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'unbound', "other phone's account",    'ftps',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'PlcmSpIp staging on',      'http',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'PlcmSpIp staging on',      'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'PlcmSpIp staging on',      'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'PlcmSpIp staging on',      'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'PlcmSpIp staging off',     'http',              'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['open',     'unbound', 'PlcmSpIp staging off',     'https',             'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  // issue 13 item 5: in `open` any FTP login reads, as anonymous does
  ['open',     'unbound', 'PlcmSpIp staging off',     'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'PlcmSpIp staging off',     'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['open',     'unbound', 'client cert for the MAC',  'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],

  // accounts policy, bound phone
  ['accounts', 'bound',   'anonymous',                'http',              'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  ['accounts', 'bound',   'anonymous',                'https',             'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  ['accounts', 'bound',   'anonymous',                'ftp',               'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  ['accounts', 'bound',   'anonymous',                'ftps',              'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  // issue 13 item 8: no credentials over TFTP, so not the files of a phone with its own account (tftpBoundPhones off)
  ['accounts', 'bound',   'anonymous',                'tftp allow-listed', 'oRRol oRRol ARRAA ARRAA AAAAA AAAAA AAAAA oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'anonymous',                'tftp other net',    'oRRol oRRol ARRAA ARRAA ATTAA ATTAA ATTAA oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'site account',             'http',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'site account',             'https',             'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'site account',             'ftp',               'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'site account',             'ftps',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'own phone account',        'http',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'own phone account',        'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'own phone account',        'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'own phone account',        'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   "other phone's account",    'http',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   "other phone's account",    'https',             'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   "other phone's account",    'ftp',               'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   "other phone's account",    'ftps',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'PlcmSpIp staging on',      'http',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'PlcmSpIp staging on',      'https',             'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'PlcmSpIp staging on',      'ftp',               'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'PlcmSpIp staging on',      'ftps',              'oRRol oRRol PRRPP PRRPP PPPPP PPPPP PPPPP oRRol HHHHH NRRNN'],
  ['accounts', 'bound',   'PlcmSpIp staging off',     'http',              'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'bound',   'PlcmSpIp staging off',     'https',             'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'bound',   'PlcmSpIp staging off',     'ftp',               'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'bound',   'PlcmSpIp staging off',     'ftps',              'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'bound',   'client cert for the MAC',  'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],

  // accounts policy, unbound phone
  ['accounts', 'unbound', 'anonymous',                'http',              'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  ['accounts', 'unbound', 'anonymous',                'https',             'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  ['accounts', 'unbound', 'anonymous',                'ftp',               'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  ['accounts', 'unbound', 'anonymous',                'ftps',              'ARRAA ARRAA ARRAA ARRAA AAAAA AAAAA AAAAA ARRAA HHHHH ARRAA'],
  ['accounts', 'unbound', 'anonymous',                'tftp allow-listed', 'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'anonymous',                'tftp other net',    'oRRol oRRol TRRTT TRRTT TTTTT TTTTT NTTNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'site account',             'http',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'site account',             'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'site account',             'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'site account',             'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', "other phone's account",    'http',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', "other phone's account",    'https',             'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', "other phone's account",    'ftp',               'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', "other phone's account",    'ftps',              'oRRol oRRol PRRPP PRRPP PMMPP PMMPP PMMPP oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'PlcmSpIp staging on',      'http',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'PlcmSpIp staging on',      'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'PlcmSpIp staging on',      'ftp',               'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'PlcmSpIp staging on',      'ftps',              'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
  ['accounts', 'unbound', 'PlcmSpIp staging off',     'http',              'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'unbound', 'PlcmSpIp staging off',     'https',             'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'unbound', 'PlcmSpIp staging off',     'ftp',               'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'unbound', 'PlcmSpIp staging off',     'ftps',              'FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF FFFFF HHHHH FFFFF'],
  ['accounts', 'unbound', 'client cert for the MAC',  'https',             'oRRol oRRol oRRol oRRol osdol osNol NsNNN oRRol HHHHH NRRNN'],
];

// ---- the harness ---------------------------------------------------------------------------

const silent = pino({ level: 'silent' });
let root: string;
const dirs: string[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'polyprov-matrix-'));
  dirs.push(root);
  const master = (extra = '') =>
    '<?xml version="1.0" standalone="yes"?>\n<!-- white paper, Master Configuration File -->\n' +
    `<APPLICATION APP_FILE_PATH="sip.ld" CONFIG_FILES="site.cfg" LOG_FILE_DIRECTORY="logs" OVERRIDES_DIRECTORY="overrides" CONTACTS_DIRECTORY="contacts"${extra}/>\n`;
  const files: Record<string, string | Buffer> = {
    '000000000000.cfg': master(),
    [`${MAC1}.cfg`]: master().replace('CONFIG_FILES="site.cfg"', `CONFIG_FILES="${MAC1}-line.cfg, bob.cfg, site.cfg"`),
    'bob.cfg': '<polycomConfig reg.2.address="2002" reg.2.auth.password="bobs-secret"/>\n',
    [`${MAC1}-line.cfg`]: '<polycomConfig reg.1.address="1001" reg.1.auth.password="line-one-secret"/>\n',
    'site.cfg': '<polycomConfig tcpIpApp.sntp.address="pool.ntp.org"/>\n',
    [`contacts/${MAC1}-directory.xml`]: '<directory><item_list><item><fn>Ada</fn><ct>1002</ct></item></item_list></directory>\n',
    'sip.ld': Buffer.alloc(300 * 1024, 7),
    'logs/.keep': '',
    'overrides/.keep': '',
  };
  for (const [rel, body] of Object.entries(files)) {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), body);
  }
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function outcome(policy: Policy, binding: Binding, p: Principal, via: Via, path: string, op: (typeof OPS)[number], managed = false): Promise<string> {
  const data = mkdtempSync(join(tmpdir(), 'polyprov-matrix-data-'));
  dirs.push(data);
  const store = await openMemoryStore(join(data, 'tmp'));
  await store.accounts.put(makeAccount('site', 'site', 'site-pw', REALM));
  await store.accounts.put(makeAccount('phone', 'p2', 'p2-pw', REALM, MAC2));
  if (binding === 'bound') await store.accounts.put(makeAccount('phone', 'p1', 'p1-pw', REALM, MAC1));
  const sink = await store.uploads.begin({ mac: MAC1, kind: 'override-phone', path: `overrides/${MAC1}-phone.cfg` }, { mode: 'replace', address: '192.0.2.9', maxBytes: 1 << 20, keepVersions: 3 });
  await sink.write(Buffer.from('<PHONE_CONFIG><OVERRIDES up.backlight.onIntensity="1"/></PHONE_CONFIG>\n'));
  await sink.commit();
  const base = loadServerOptions({ root, data }, {});
  const options: Readonly<ServerOptions> = Object.freeze({ ...base, policy, realm: REALM, staging: p.staging, rateLimitPerSec: 1e6, rateLimitBurst: 1e6 });
  const fleet = managed ? new FakeFleet().setPhone(MAC1, 'default', { 'reg.1.address': '1001', 'reg.1.auth.password': 'managed-secret' }) : undefined;
  const core = await createBootService({ options, store, log: silent, fleet });
  try {
    const { transport, address } = VIA[via];
    const req: BootRequest = {
      transport,
      remote: { address, port: 40000 },
      credentials: p.credentials(transport),
      op,
      path,
      signal: new AbortController().signal,
    };
    if (op === 'write') req.body = Readable.from([Buffer.from('<PHONE_CONFIG/>\n')]);
    const r: BootResult = await core.handle(req);
    return r.kind === 'file' ? 'served' : r.kind === 'listing' ? 'listed' : r.kind === 'refused' ? r.error.code : r.kind;
  } finally {
    await core.close();
    await store.close();
  }
}

// ---- the cases -----------------------------------------------------------------------------

const cases = TABLE.flatMap(([policy, binding, principal, via, row]) => {
  const cells = row.trim().split(/\s+/);
  if (cells.length !== KINDS.length || cells.some((c) => c.length !== OPS.length)) throw new Error(`bad TABLE row: ${policy} ${binding} ${principal} ${via}`);
  const kinds = [...KINDS.map((kind, k) => ({ ...kind, cell: cells[k]!, managed: false })), { ...MANAGED, cell: cells[MANAGED.like]!, managed: true }];
  return kinds.flatMap((kind) =>
    OPS.map((op, o) => {
      const letter = kind.cell[o]!;
      const expected = OUTCOME[letter];
      if (!expected) throw new Error(`unknown outcome letter ${letter}`);
      return { title: `${policy}, ${binding}: ${principal} over ${via}, ${op} ${kind.name} → ${expected}`, policy, binding, principal, via, path: kind.path, op, expected, managed: kind.managed };
    }),
  );
});

describe('boot service access matrix (principal × transport × file kind × operation)', () => {
  test('the table covers every principal and transport the documents name', () => {
    const seen = new Set(TABLE.map(([p, b, who, via]) => `${p}|${b}|${who}|${via}`));
    expect(new Set(TABLE.map((r) => r[2]))).toEqual(new Set(Object.keys(PRINCIPALS)));
    expect(new Set(TABLE.map((r) => r[3]))).toEqual(new Set(Object.keys(VIA)));
    expect(seen.size).toBe(TABLE.length);
  });

  for (const c of cases) {
    test(c.title, async () => {
      expect(await outcome(c.policy, c.binding, PRINCIPALS[c.principal], c.via, c.path, c.op, c.managed)).toBe(c.expected);
    });
  }
});
