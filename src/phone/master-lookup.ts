// The master file as a phone finds it, in both stages (SEED-AG, Master Configuration Files: the
// file named in the server address, else <MAC>.cfg, else 000000000000.cfg), what it says for this
// phone (image, CONFIG_FILES, directories), and the cached copy used when the server has none or
// cannot be reached (white paper, Stage 4).
import { applyMaster, parseMasterFile } from '../config/master-file.ts';
import { partNumberFor } from '../config/models.ts';
import { directoriesOf, masterCandidates, type Directories } from '../config/phone-layout.ts';
import type { EffectiveMaster, MasterFile } from '../config/types.ts';
import { isProvError, type ProvError } from '../errors.ts';
import { Unreachable, type BootContext } from './boot-context.ts';
import { resolveFileRef } from './server-address.ts';

export interface MasterFound {
  key: string;
  body: Buffer;
  em: EffectiveMaster;
  directories: Directories;
  from: 'server' | 'cache';
}

/**
 * SEED-AG, Master Configuration Files: specified file, else <MAC>.cfg, else 000000000000.cfg.
 * Throws Unreachable when no address answered the first request; null when the server has none.
 */
export async function findMaster(ctx: BootContext): Promise<MasterFound | null> {
  if (ctx.noServer !== undefined) throw new Unreachable(ctx.noServer);
  const server = ctx.server;
  const mac = ctx.input.profile.mac;
  const names = masterCandidates(mac, server.masterFile).map((c) => c.path);
  let answered = false;
  for (const name of names) {
    const r = await ctx.transfer(resolveFileRef(server, name), 'get');
    if (r.status === 'error') {
      if (!answered) throw new Unreachable(r.error ?? r.wire);
      continue;
    }
    answered = true;
    if (r.status !== 'ok' || !r.body) continue;
    try {
      const found = interpretMaster(ctx, name, r.body, 'server');
      ctx.note(`master file ${name} read from the server`);
      return found;
    } catch (e) {
      if (!isProvError(e)) throw e;
      ctx.note(`master file ${name} could not be parsed (${(e as ProvError).code}); trying the next name`);
    }
  }
  ctx.note('no master file on the server');
  return null;
}

function interpretMaster(ctx: BootContext, key: string, body: Buffer, from: 'server' | 'cache'): MasterFound {
  const p = ctx.input.profile;
  const master = parseMasterOnce(key, body);
  const em = applyMaster(master, { mac: p.mac, model: p.model, partNumber: p.partNumber ?? partNumberFor(p.model) });
  const problems: ProvError[] = [];
  const directories = directoriesOf(em, '', problems);
  return { key, body, em, directories, from };
}

/** The master file in the phone's flash, when it has one that still parses. */
export function cachedMaster(ctx: BootContext): MasterFound | null {
  const m = ctx.cache.master;
  if (!m) return null;
  try {
    return interpretMaster(ctx, m.key, m.body, 'cache');
  } catch {
    return null;
  }
}

/**
 * The master file is usually the same bytes for a whole fleet (000000000000.cfg): a storm of
 * phones in one process parses it once. The parsed form is never modified (applyMaster reads it).
 */
let lastMaster: { key: string; body: Buffer; master: MasterFile } | undefined;
function parseMasterOnce(key: string, body: Buffer): MasterFile {
  if (lastMaster && lastMaster.key === key && lastMaster.body.equals(body)) return lastMaster.master;
  const master = parseMasterFile(body, key);
  lastMaster = { key, body: Buffer.from(body), master };
  return master;
}
