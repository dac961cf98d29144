// Rule family "security": settings that leave phones open.
// - Factory administrator password 456 (Administrator's Guide: "The factory default password is
//   456"): anyone can unlock the Advanced settings and the web UI. Also when device settings are
//   pushed from the tree (device.set="1" in effect) without any administrator password: the
//   phones keep 456 (issue 13 item 23).
// - Factory provisioning account PlcmSpIp / PlcmSpIp (Administrator's Guide, boot server set-up:
//   "Defaults are: provisioning protocol: FTP, name: PlcmSpIp, password: PlcmSpIp").
// - A secret in a file more than one phone reads (a token-free CONFIG_FILES entry of
//   000000000000.cfg, or a file two phones' <MAC>.cfg masters both list; issue 13 item 6): every
//   such phone, and anyone who can fetch as one, gets it. SIP credentials belong in per-phone
//   files ([PHONE_MAC_ADDRESS] entries or files only one <MAC>.cfg master lists).
// - A URL with user:password in a master's CONFIG_FILES or APP_FILE_PATH (issue 13 item 7): the
//   master file then holds a secret, so polyprov keeps it off TFTP outside tftpSecretAllow, and
//   every phone that reads the master learns the password.
// - The phone's web server left on: the white paper asks for httpd.cfg.enabled="0" on centrally
//   provisioned phones; the templates default it to 1, so leaving it unset leaves it on.
// - voIpProt.SIP.specialEvent.checkSync.alwaysReboot="1": every check-sync reboots the phone
//   (white paper, SIP NOTIFY (Check-Sync); facts §4.1).
import { ProvError } from '../../errors.ts';
import { hasUrlCredentials, isUrl, maskUrlCredentials, splitMasterSuffix, URL_ATTRIBUTES } from '../master-file.ts';
import { isSecretParam, splitParamName } from '../params.ts';
import type { ParamEntry } from '../types.ts';
import { DEFAULT_MASTER, lookup, type ConfigFileInfo, type LintContext, type Stack } from './context.ts';

const FACTORY_ADMIN = '456';
const FACTORY_PROV = 'plcmspip';
/** Phone-wide credentials a site commonly shares on purpose: a warning, not an error, when shared. */
const DEVICE_WIDE = new Set(['device.auth.localAdminPassword', 'device.auth.localUserPassword', 'device.prov.password', 'device.sec.configEncryption.key']);

function where(e: ParamEntry) {
  return { file: e.pos.file, line: e.pos.line, column: e.pos.column };
}

/** Admin password parameters: UCS device.auth.localAdminPassword, and any *adminPassword spelling. */
function isAdminPassword(name: string): boolean {
  const p = splitParamName(name).pattern;
  return p === 'device.auth.localAdminPassword' || /(^|\.)(admin|adminPassword|localAdminPassword)$|adminPass(word)?$/i.test(p) || /\.admin\.password$/i.test(p);
}

export function lintSecurity(ctx: LintContext): ProvError[] {
  const out: ProvError[] = [];

  for (const cfg of ctx.configs.values()) {
    for (const e of cfg.params) {
      if (e.value === FACTORY_ADMIN && isAdminPassword(e.name)) {
        out.push(
          new ProvError('PP_SEC_FACTORY_ADMIN_PASSWORD', `${e.name} is the factory default 456 (Administrator's Guide: "The factory default password is 456"); anyone can unlock the phone's administrator settings`, {
            ...where(e),
            hint: 'Set a password of your own, in a file only your phones can fetch.',
          }),
        );
      }
      if ((e.name === 'device.prov.user' || e.name === 'device.prov.password') && e.value.toLowerCase() === FACTORY_PROV) {
        out.push(factoryProv(e.name, where(e)));
      }
      if (e.name === 'device.prov.serverName' && /plcmspip(:[^@]*)?@/i.test(e.value)) out.push(factoryProv(e.name, where(e)));
    }
  }
  for (const master of ctx.masters.values()) {
    for (const a of master.attrs) {
      const at = { file: a.pos.file, line: a.pos.line, column: a.pos.column };
      if (isUrl(a.value) || a.value.includes(',')) {
        if (/:\/\/plcmspip(:[^@]*)?@/i.test(a.value) || /,\s*[a-z]+:\/\/plcmspip/i.test(a.value)) {
          out.push(factoryProv(a.name, at));
          continue;
        }
      }
      if (URL_ATTRIBUTES.has(splitMasterSuffix(a.name).base) && hasUrlCredentials(a.value)) {
        out.push(
          new ProvError('PP_SEC_URL_CREDENTIALS', `${a.name} names a URL with a user and password (${maskUrlCredentials(a.value.split(',').map((x) => x.trim()).find((x) => hasUrlCredentials(x)) ?? '')}); every phone that reads ${master.file} learns it, and polyprov treats ${master.file} as a file holding secrets (not served over TFTP outside tftpSecretAllow)`, {
            ...at,
            hint: 'Prefer an account the boot server checks (polyprov accounts) over credentials in the URL; if the URL must carry them, give that server an account that can only read.',
          }),
        );
      }
    }
  }

  // Secrets in files more than one phone reads.
  for (const [path, readers] of ctx.sharedReaders()) {
    const cfg = ctx.configs.get(path);
    if (!cfg) continue;
    const who = readers.masters.includes(DEFAULT_MASTER)
      ? `which every phone reads (it is listed in CONFIG_FILES of ${DEFAULT_MASTER})`
      : readers.masters.length > 0
        ? `which every phone using ${readers.masters.join(', ')} reads`
        : `which ${readers.phones.length} phones read (listed by ${readers.phones.map((m) => `${m}.cfg`).join(', ')})`;
    for (const e of cfg.params) {
      if (e.value === '' || !isSecretParam(e.name)) continue;
      const deviceWide = DEVICE_WIDE.has(splitParamName(e.name).pattern);
      out.push(
        new ProvError('PP_SEC_SHARED_SECRET', `${e.name} holds a secret in ${path}, ${who}; each of those phones, or anyone who can fetch as one, learns it`, {
          ...where(e),
          severity: deviceWide ? 'warning' : 'error',
          hint: deviceWide
            ? 'If one site-wide value is intended, serve this file over an authenticated, encrypted transport; otherwise move it to per-phone files.'
            : 'Move per-line credentials to a per-phone file: list "phones/[PHONE_MAC_ADDRESS].cfg" (or "[PHONE_MAC_ADDRESS]-user.cfg") in CONFIG_FILES, or give each phone a <MAC>.cfg master.',
        }),
      );
    }
  }

  // Web server and alwaysReboot: what each phone chain ends up with.
  const seen = new Set<string>();
  const once = (key: string, make: () => ProvError) => {
    if (seen.has(key)) return;
    seen.add(key);
    out.push(make());
  };
  for (const chain of ctx.chains) {
    const httpd = lookup(chain.stack, 'httpd.cfg.enabled');
    if (httpd && httpd.value !== '0') {
      once(`h:${httpd.pos.file}:${httpd.pos.line}:${httpd.pos.column}`, () => webServerOn(httpd));
    } else if (!httpd && (chain.generic || chain.master !== DEFAULT_MASTER) && !chain.files.some((f) => ctx.encrypted.has(f))) {
      // (An encrypted file in the chain may set it: polyprov cannot tell, so it says nothing.)
      const src = chain.em.sources['CONFIG_FILES']?.pos;
      once(`hm:${chain.master}`, () =>
        new ProvError('PP_SEC_WEB_SERVER_ON', `no file that phones using ${chain.master} read sets httpd.cfg.enabled, so their web configuration utility stays on (template default 1)`, {
          file: chain.master,
          line: src?.line ?? 1,
          column: src?.column ?? 1,
          hint: 'Set httpd.cfg.enabled="0" in a site-wide configuration file (white paper: disable the Web Configuration Utility on centrally provisioned phones).',
        }),
      );
    }
    const reboot = lookup(chain.stack, 'voIpProt.SIP.specialEvent.checkSync.alwaysReboot');
    if (reboot?.value === '1') once(`r:${reboot.pos.file}:${reboot.pos.line}:${reboot.pos.column}`, () => alwaysReboot(reboot));
  }
  // The factory administrator password left unchanged while device settings come from here.
  for (const chain of ctx.chains) {
    const deviceSet = lookup(chain.stack, 'device.set');
    if (deviceSet?.value !== '1' || adminPasswordApplied(chain.stack)) continue;
    once(`a:${deviceSet.pos.file}:${deviceSet.pos.line}:${deviceSet.pos.column}`, () =>
      new ProvError('PP_SEC_FACTORY_ADMIN_PASSWORD', `device settings are pushed from this tree (device.set="1") but no administrator password is, so the phones keep the factory default 456 (Administrator's Guide: "The factory default password is 456") unless it was changed on each phone`, {
        ...where(deviceSet),
        hint: 'Set device.auth.localAdminPassword with device.auth.localAdminPassword.set="1", in a file only your phones can fetch.',
      }),
    );
  }
  for (const cfg of ctx.unreferencedConfigs()) {
    const httpd = cfg.first.get('httpd.cfg.enabled');
    if (httpd?.value === '1') once(`h:${httpd.pos.file}:${httpd.pos.line}:${httpd.pos.column}`, () => webServerOn(httpd));
    const reboot = cfg.first.get('voIpProt.SIP.specialEvent.checkSync.alwaysReboot');
    if (reboot?.value === '1') once(`r:${reboot.pos.file}:${reboot.pos.line}:${reboot.pos.column}`, () => alwaysReboot(reboot));
  }
  return out;
}

const adminEntries = new WeakMap<ConfigFileInfo, ParamEntry[]>();

/** Whether an administrator password reaches the phone: set, not empty, and a device.* one with its own .set="1". */
function adminPasswordApplied(stack: Stack | null): boolean {
  for (let s = stack; s; s = s.rest) {
    let list = adminEntries.get(s.file);
    if (!list) adminEntries.set(s.file, (list = [...s.file.first.values()].filter((e) => e.value !== '' && isAdminPassword(e.name))));
    for (const e of list) {
      if (lookup(stack, e.name) !== e) continue;
      if (!e.name.startsWith('device.') || lookup(stack, `${e.name}.set`)?.value === '1') return true;
    }
  }
  return false;
}

function factoryProv(name: string, at: { file: string; line: number; column: number }): ProvError {
  return new ProvError('PP_SEC_FACTORY_PROV_ACCOUNT', `${name} uses the factory provisioning account PlcmSpIp (Administrator's Guide: "Defaults are: provisioning protocol: FTP, name: PlcmSpIp, password: PlcmSpIp"), which every attacker knows`, {
    ...at,
    hint: 'Create a provisioning account of your own (polyprov accounts) and give phones its user and password.',
  });
}

function webServerOn(e: ParamEntry): ProvError {
  return new ProvError('PP_SEC_WEB_SERVER_ON', `httpd.cfg.enabled="${e.value}" leaves the phone's web configuration utility on; local changes there override central provisioning`, {
    ...where(e),
    hint: 'Set httpd.cfg.enabled="0" (white paper: disable access to the Web Configuration Utility on centrally provisioned phones).',
  });
}

function alwaysReboot(e: ParamEntry): ProvError {
  return new ProvError('PP_SEC_ALWAYS_REBOOT', 'voIpProt.SIP.specialEvent.checkSync.alwaysReboot="1" makes every check-sync NOTIFY reboot the phone, even when nothing changed; anyone who can send one can drop calls', {
    ...where(e),
    hint: 'Set it to "0": phones then reboot only when their files changed (white paper, SIP NOTIFY (Check-Sync)).',
  });
}
