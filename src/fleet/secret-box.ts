// Sealing managed secrets at rest (issue 14, Secrets): AES-256-GCM with a random 96-bit IV per
// value (NIST SP 800-38D §8.2.2), text form `v1.<iv>.<tag>.<ciphertext>` in base64url. The AAD is
// the setting's scope key and name (`phone:0004f2000001\0reg.1.auth.password`), so a sealed value
// copied to another scope or name does not open. A check value (a sealed known string) tells at
// start whether the key is the one the store's secrets were sealed with.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ProvError } from '../errors.ts';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const CHECK_AAD = 'polyprov\0fleet.keyCheck';
const CHECK_CLEAR = 'polyprov secret key check v1';

/** The AAD of a setting: its scope key (scope.ts scopeKey) and name. */
export function settingAad(scopeKey: string, name: string): string {
  return `${scopeKey}\0${name}`;
}

/** Whether a stored value looks like the secret box's text form. */
export function isSealed(text: string): boolean {
  return /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]*$/.test(text);
}

function mismatch(why: string): ProvError {
  return new ProvError('PP_FLEET_KEY_MISMATCH', `a sealed secret does not open with this key (${why})`, {
    hint: 'Give this node the key the secrets were sealed with (POLYPROV_SECRET_KEY or secretKeyFile); restore it from its backup.',
  });
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== 32) {
      throw new ProvError('PP_FLEET_KEY_MISSING', `the secret key must be 32 bytes, not ${Buffer.isBuffer(key) ? key.length : typeof key}`, {
        hint: 'Generate one with `openssl rand -hex 32`.',
      });
    }
    this.#key = Buffer.from(key);
  }

  /** Seals a clear value for one place (aad: settingAad(scopeKey, name)). */
  seal(clear: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    c.setAAD(Buffer.from(aad, 'utf8'));
    const ct = Buffer.concat([c.update(clear, 'utf8'), c.final()]);
    return `${VERSION}.${iv.toString('base64url')}.${c.getAuthTag().toString('base64url')}.${ct.toString('base64url')}`;
  }

  /** Opens a sealed value; PP_FLEET_KEY_MISMATCH when the key, the AAD or the text is not the sealing one. */
  open(text: string, aad: string): string {
    const parts = text.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw mismatch('not a v1 sealed value');
    const iv = Buffer.from(parts[1]!, 'base64url');
    const tag = Buffer.from(parts[2]!, 'base64url');
    const ct = Buffer.from(parts[3]!, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw mismatch('malformed sealed value');
    const d = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    try {
      const clear = Buffer.concat([d.update(ct), d.final()]);
      return new TextDecoder('utf-8', { fatal: true }).decode(clear);
    } catch (e) {
      throw Object.assign(mismatch('authentication failed: another key, or the value was moved or altered'), { cause: e });
    }
  }

  /** A check value to keep in the store (settings `fleet.keyCheck`). */
  makeCheck(): string {
    return this.seal(CHECK_CLEAR, CHECK_AAD);
  }

  /** Whether this key made `text` (makeCheck's output). False for another key or a damaged value. */
  verifyCheck(text: string): boolean {
    try {
      return this.open(text, CHECK_AAD) === CHECK_CLEAR;
    } catch {
      return false;
    }
  }
}
