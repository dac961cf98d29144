// Which files hold secrets, and whose they are. TFTP carries no credentials, so such files go
// over TFTP only to the networks the administrator allow-lists (tftpSecretAllow). A per-phone
// file is assumed to hold its phone's SIP password; another file is scanned once per version
// for secret parameters with a value (passwords, keys: params.ts isSecretParam) and, when it is
// a master file, for URLs that carry credentials (`ftp://user:pw@host/…` in CONFIG_FILES or
// APP_FILE_PATH, which the Administrator's Guide allows; issue 13 item 7).
// A file with a secret that only per-phone masters list belongs to those phones (issue 13
// item 6): the access policy protects it like their MAC-named files (ownersOf).
import { parseConfigFile } from '../config/config-file.ts';
import { hasUrlCredentials, splitMasterSuffix, URL_ATTRIBUTES } from '../config/master-file.ts';
import { isSecretParam } from '../config/params.ts';
import { isMasterName, macOfName } from '../config/phone-layout.ts';
import type { TreeFile, TreeFiles } from '../config/tree-source.ts';
import type { Mac } from '../domain.ts';
import { MasterListings } from './master-listings.ts';

const NO_OWNERS: readonly Mac[] = Object.freeze([]);

export class SecretFileIndex {
  private readonly cache = new Map<string, { etag: string; secret: boolean }>();
  private readonly listings: MasterListings;

  constructor(private readonly tree: TreeFiles) {
    this.listings = new MasterListings(tree);
  }

  async holdsSecrets(file: TreeFile): Promise<boolean> {
    const base = file.rel.slice(file.rel.lastIndexOf('/') + 1);
    if (macOfName(base)) return true;
    if (!/\.(cfg|xml)$/i.test(base)) return false;
    const hit = this.cache.get(file.rel);
    if (hit && hit.etag === file.etag) return hit.secret;
    let secret = false;
    try {
      const cfg = parseConfigFile(await this.tree.contents(file), file.rel);
      // An encrypted file is safe to carry; a broken one we cannot judge, so treat it as secret.
      const master = isMasterName(base);
      const urlWithCredentials = (name: string, value: string) => master && URL_ATTRIBUTES.has(splitMasterSuffix(name).base) && hasUrlCredentials(value);
      secret = cfg?.kind === 'xml' ? cfg.params.some((p) => p.value !== '' && (isSecretParam(p.name) || urlWithCredentials(p.name, p.value))) : false;
    } catch {
      secret = true;
    }
    this.cache.set(file.rel, { etag: file.etag, secret });
    return secret;
  }

  /**
   * The phones a file with secrets belongs to: those whose own master (`<MAC>.cfg`) lists it,
   * when no master that every phone reads lists it too. Empty for every other file (MAC-named
   * files are their phone's by name, and the policy looks at the name first).
   */
  async ownersOf(rel: string): Promise<Mac[]> {
    const f = this.tree.findNow(rel);
    return f ? this.ownersOfFile(f) : [];
  }

  /**
   * ownersOfFile answered at once when it needs no read (issue 16, Speed: no promise on the serving
   * path): a MAC-named file or one that cannot hold secrets has no owners by content, nor has a
   * version already scanned and found without secrets. Undefined: ask ownersOfFile.
   */
  ownersKnown(f: TreeFile): readonly Mac[] | undefined {
    if (f.isDirectory || macOfName(f.rel)) return NO_OWNERS;
    if (!/\.(cfg|xml)$/i.test(f.rel)) return NO_OWNERS;
    const hit = this.cache.get(f.rel);
    return hit && hit.etag === f.etag && !hit.secret ? NO_OWNERS : undefined;
  }

  /** ownersOf for a file already found (the serving path: no second stat). */
  async ownersOfFile(f: TreeFile): Promise<Mac[]> {
    if (this.ownersKnown(f) || !(await this.holdsSecrets(f))) return [];
    const readers = await this.listings.readersOf(f.rel);
    return readers.shared ? [] : readers.phones;
  }
}
