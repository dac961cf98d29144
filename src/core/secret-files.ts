// Which files hold secrets. TFTP carries no credentials, so such files go over TFTP only to
// the networks the administrator allow-lists (tftpSecretAllow). A per-phone file is assumed
// to hold its phone's SIP password; a shared file is scanned once per version for secret
// parameters with a value (passwords, keys: params.ts isSecretParam).
import { parseConfigFile } from '../config/config-file.ts';
import { isSecretParam } from '../config/params.ts';
import { macOfName } from '../config/phone-layout.ts';
import type { TreeFile, TreeFiles } from '../config/tree-source.ts';

export class SecretFileIndex {
  private readonly cache = new Map<string, { etag: string; secret: boolean }>();

  constructor(private readonly tree: TreeFiles) {}

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
      secret = cfg?.kind === 'xml' ? cfg.params.some((p) => p.value !== '' && isSecretParam(p.name)) : false;
    } catch {
      secret = true;
    }
    this.cache.set(file.rel, { etag: file.etag, secret });
    return secret;
  }
}
