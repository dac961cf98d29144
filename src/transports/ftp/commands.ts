// The command table: login, TLS negotiation, session parameters, directory and file-information
// commands. Transfers (RETR, STOR, APPE, LIST, NLST) are in transfers.ts.
import type { FtpSession } from './control.ts';
import { plainAddress } from '../../util/address.ts';
import { epsvReply, formatMdtm, pasvReply } from './format.ts';
import { quotePathname } from './path.ts';
import { PassiveListener } from './data.ts';
import { runAppe, runList, runRetr, runStor } from './transfers.ts';
import { probeDirectory } from './directory.ts';

export interface CommandSpec {
  run(s: FtpSession, arg: string): void | Promise<void>;
  /** Needs a successful USER/PASS first (RFC 959 §4.2: 530 otherwise). */
  login: boolean;
  arg?: 'required';
}

const cmd = (login: boolean, run: CommandSpec['run'], arg?: 'required'): CommandSpec => ({ run, login, arg });

const refuseActive = cmd(false, (s) =>
  s.reply(502, 'Active mode is not supported; use PASV or EPSV (phones use passive FTP since bootROM 3.0).'),
);

const notSupported = cmd(true, (s) => s.reply(502, 'Command not implemented.'));

function features(s: FtpSession): string {
  // RFC 2389 §3.2: one feature per line, each indented by one space.
  const f = ['Features:', 'EPSV', 'PASV', 'MDTM', 'SIZE', 'REST STREAM', 'TVFS', 'UTF8'];
  if (s.cfg.tls) f.push('AUTH TLS', 'PBSZ', 'PROT');
  f.push('End');
  return f.join('\n');
}

/** PASS: the adapter checks nothing; the core answers a `stat` of `/` with these credentials. */
async function pass(s: FtpSession, arg: string): Promise<void> {
  if (s.user === undefined) return s.reply(503, 'Login with USER first.');
  if (s.loggedIn) return s.reply(230, 'Already logged in.');
  s.password = arg;
  const res = await s.cfg.service.handle(s.request('stat', '/', false));
  const code = res.kind === 'refused' ? res.error.code : undefined;
  if (code === 'PP_RATE_LIMITED') return s.refuse(code, '/', 'core');
  if (code !== undefined && (code.startsWith('PP_AUTH_') || code === 'PP_ADDRESS_DENIED' || code === 'PP_DIGEST_NONCE_REPLAYED')) {
    s.loginFailures++;
    s.password = undefined;
    s.refuse(code, '/', 'core');
    if (s.loginFailures >= s.cfg.maxLoginFailures) {
      s.reply(421, 'Too many failed logins; closing control connection.');
      s.close();
    }
    return;
  }
  s.loggedIn = true;
  s.log.info({ user: s.user, tls: s.secure }, 'ftp login');
  s.reply(230, 'Login successful.');
}

async function openPassive(s: FtpSession): Promise<PassiveListener> {
  s.closePassive(); // one pending passive listener per session
  const host = s.sock.localAddress ?? '127.0.0.1';
  const p = await PassiveListener.open({
    host,
    allowedAddress: s.remote.address,
    portMin: s.cfg.passivePortMin,
    portMax: s.cfg.passivePortMax,
    timeoutMs: s.cfg.passiveTimeoutMs,
    tls: s.protP ? s.cfg.tls?.socketOptions : undefined,
    onForeign: (address, port) =>
      s.log.warn({ foreign: address, port }, `ftp refused data connection from ${address}; control is ${s.remote.address}`),
    onTls: (resumed, protocol) => s.log.debug({ resumed, protocol }, 'ftp data connection TLS'),
  });
  s.passive = p;
  return p;
}

async function stat(s: FtpSession, arg: string, reply: (size: number, mtime: Date) => string): Promise<void> {
  const path = s.path(arg);
  const res = await s.cfg.service.handle(s.request('stat', path, false));
  if (!s.isFile(res)) return s.replyUnexpected(res, path);
  // RFC 3659 §4.2 / §3.2: SIZE and MDTM are for files; a directory is 550.
  if (res.directory) return s.reply(550, `${path} is a directory.`);
  s.reply(213, reply(res.size, res.mtime));
}

export const COMMANDS: Record<string, CommandSpec> = {
  USER: cmd(
    false,
    (s, arg) => {
      // RFC 959 §4.1.1: USER starts a new login; the old one's rights end here.
      s.user = arg;
      s.password = undefined;
      s.loggedIn = false;
      s.reply(331, 'Please specify the password.');
    },
    'required',
  ),
  PASS: cmd(false, pass),
  AUTH: cmd(
    false,
    (s, arg) => {
      const mech = arg.trim().toUpperCase();
      if (!s.cfg.tls) return s.reply(502, 'TLS is not configured on this server.');
      if (s.secure) return s.reply(503, 'Already using TLS.');
      // RFC 4217 §4; `SSL` and `TLS-C` are the names older clients still send.
      if (!['TLS', 'TLS-C', 'SSL', 'TLS-P'].includes(mech)) return s.reply(504, 'Unknown security mechanism.');
      s.reply(234, 'Proceed with negotiation.');
      s.upgradeAfterReply();
    },
    'required',
  ),
  PBSZ: cmd(
    false,
    (s, arg) => {
      // RFC 4217 §8: PBSZ follows a TLS handshake; the only meaningful size for TLS is 0.
      if (!s.secure) return s.reply(503, 'PBSZ needs AUTH TLS first.');
      if (!/^\d+$/.test(arg.trim())) return s.reply(501, 'PBSZ needs a number.');
      s.pbsz = true;
      s.reply(200, 'PBSZ=0');
    },
    'required',
  ),
  PROT: cmd(
    false,
    (s, arg) => {
      // RFC 4217 §9: C (clear) and P (private) only; PROT needs PBSZ first.
      if (!s.secure || !s.pbsz) return s.reply(503, 'PROT needs AUTH TLS and PBSZ first.');
      const level = arg.trim().toUpperCase();
      if (level === 'P' || level === 'C') {
        s.protP = level === 'P';
        return s.reply(200, `PROT now ${level === 'P' ? 'Private' : 'Clear'}.`);
      }
      if (level === 'S' || level === 'E') return s.reply(536, 'Requested PROT level not supported.');
      s.reply(504, 'Unknown PROT level.');
    },
    'required',
  ),
  FEAT: cmd(false, (s) => s.reply(211, features(s))),
  SYST: cmd(false, (s) => s.reply(215, 'UNIX Type: L8')),
  NOOP: cmd(false, (s) => s.reply(200, 'NOOP ok.')),
  HELP: cmd(false, (s) => s.reply(214, `Commands:\n${Object.keys(COMMANDS).join(' ')}\nHelp OK.`)),
  QUIT: cmd(false, (s) => {
    s.reply(221, 'Goodbye.');
    s.close();
  }),
  OPTS: cmd(
    false,
    (s, arg) => {
      // RFC 2640 §3.1 / RFC 2389 §4: pathnames are always UTF-8 here.
      if (/^UTF8( (ON|OFF))?$/i.test(arg.trim())) return s.reply(200, 'Always in UTF8 mode.');
      s.reply(501, 'Option not understood.');
    },
    'required',
  ),
  TYPE: cmd(
    true,
    (s, arg) => {
      const t = arg.trim().toUpperCase().replace(/\s+/g, ' ');
      if (t === 'I' || t === 'L 8') return s.reply(200, 'Switching to Binary mode.');
      // RFC 959 §3.1.1.1 ASCII is accepted but, as vsftpd does by default (ascii_download_enable=NO),
      // transfers stay byte-for-byte: SIZE, REST and phone files never depend on line-end rewriting.
      if (t === 'A' || t === 'A N') return s.reply(200, 'Switching to ASCII mode (bytes are sent unchanged).');
      s.reply(504, 'TYPE not supported.');
    },
    'required',
  ),
  MODE: cmd(true, (s, arg) => (arg.trim().toUpperCase() === 'S' ? s.reply(200, 'Mode set to S.') : s.reply(504, 'Only MODE S.')), 'required'),
  STRU: cmd(true, (s, arg) => (arg.trim().toUpperCase() === 'F' ? s.reply(200, 'Structure set to F.') : s.reply(504, 'Only STRU F.')), 'required'),
  ALLO: cmd(true, (s, arg) => {
    // RFC 959 §4.1.3: the announced size travels to the core as `size` with the next STOR.
    const n = /^\s*(\d{1,15})/.exec(arg);
    s.alloSize = n ? Number(n[1]) : undefined;
    s.reply(200, 'ALLO noted.');
  }),
  REST: cmd(
    true,
    (s, arg) => {
      // RFC 3659 §5: REST STREAM, a byte offset for the next RETR.
      if (!/^\d{1,15}$/.test(arg.trim())) return s.reply(501, 'REST needs a byte offset.');
      s.restOffset = Number(arg.trim());
      s.reply(350, `Restarting at ${s.restOffset}. Send RETR to resume.`);
    },
    'required',
  ),
  PWD: cmd(true, (s) => s.reply(257, `${quotePathname(s.cwd)} is the current directory.`)),
  XPWD: cmd(true, (s) => s.reply(257, `${quotePathname(s.cwd)} is the current directory.`)),
  CWD: cmd(true, (s, arg) => changeDirectory(s, s.path(arg)), 'required'),
  XCWD: cmd(true, (s, arg) => changeDirectory(s, s.path(arg)), 'required'),
  CDUP: cmd(true, (s) => changeDirectory(s, s.path('..'))),
  XCUP: cmd(true, (s) => changeDirectory(s, s.path('..'))),
  PASV: cmd(true, async (s) => {
    if (s.epsvAll) return s.reply(503, 'EPSV ALL in force; use EPSV.');
    const local = plainAddress(s.sock.localAddress);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(local)) return s.reply(522, 'PASV needs IPv4; use EPSV (2).');
    const p = await openPassive(s);
    s.reply(227, pasvReply(local, p.port));
  }),
  EPSV: cmd(true, async (s, arg) => {
    const a = arg.trim().toUpperCase();
    if (a === 'ALL') {
      // RFC 2428 §4: after EPSV ALL only EPSV sets up data connections.
      s.epsvAll = true;
      return s.reply(200, 'EPSV ALL ok.');
    }
    const family = plainAddress(s.sock.localAddress).includes(':') ? '2' : '1';
    if (a !== '' && a !== family) return s.reply(522, `Network protocol not supported, use (${family})`);
    const p = await openPassive(s);
    s.reply(229, epsvReply(p.port));
  }),
  PORT: refuseActive,
  EPRT: refuseActive,
  LPRT: refuseActive,
  SIZE: cmd(true, (s, arg) => stat(s, arg, (size) => String(size)), 'required'),
  MDTM: cmd(true, (s, arg) => stat(s, arg, (_size, mtime) => formatMdtm(mtime)), 'required'),
  DELE: cmd(
    true,
    async (s, arg) => {
      const path = s.path(arg);
      const res = await s.cfg.service.handle(s.request('delete', path, false));
      if (res.kind !== 'deleted') return s.replyUnexpected(res, path);
      s.reply(250, 'File deleted.');
    },
    'required',
  ),
  RETR: cmd(true, runRetr, 'required'),
  STOR: cmd(true, runStor, 'required'),
  APPE: cmd(true, runAppe, 'required'),
  LIST: cmd(true, (s, arg) => runList(s, arg, 'LIST')),
  NLST: cmd(true, (s, arg) => runList(s, arg, 'NLST')),
  ABOR: cmd(false, (s) => {
    // No transfer running (a running one is aborted before it reaches the queue): RFC 959 §4.1.3, 226.
    s.closePassive();
    s.reply(226, 'ABOR ok; no transfer in progress.');
  }),
  STAT: cmd(true, (s, arg) => {
    if (arg.trim() !== '') return s.reply(502, 'STAT with a pathname is not implemented; use LIST.');
    s.reply(211, `polyprov FTP status\nLogged in as ${s.user}\nTLS ${s.secure ? 'on' : 'off'}, PROT ${s.protP ? 'P' : 'C'}\nEnd of status`);
  }),
  MKD: notSupported,
  RMD: notSupported,
  RNFR: notSupported,
  RNTO: notSupported,
  SITE: notSupported,
  MLSD: notSupported,
  MLST: notSupported,
};

async function changeDirectory(s: FtpSession, path: string): Promise<void> {
  const r = await probeDirectory(s, path);
  if (r !== true) return r === false ? s.reply(550, 'No such directory.') : s.refuse(r, path, 'core');
  s.cwd = path;
  s.reply(250, 'Directory successfully changed.');
}
