// FTP names are relative to the session's working directory (RFC 959 §3.1: pathname syntax is the
// server's). polyprov presents the provisioning tree as a chroot, the way vsftpd's chroot_local_user
// does: the adapter joins CWD and the argument into one root-relative path and clamps `..` at `/`, so
// no path it builds ever climbs above the root. Everything else (NUL bytes, backslashes, reserved
// names, what a phone may see) is the core's to check, so odd bytes pass through unchanged.

/** Joins `cwd` (absolute, normalised) and an FTP pathname argument into a normalised absolute path. */
export function resolveFtpPath(cwd: string, arg: string): string {
  const joined = arg.startsWith('/') ? arg : `${cwd}/${arg}`;
  const out: string[] = [];
  for (const seg of joined.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      out.pop(); // at the root this is a no-op: `..` never leaves `/`
      continue;
    }
    out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** RFC 959 §7 (257 reply): a quote inside the directory name is doubled. */
export function quotePathname(path: string): string {
  return `"${path.replace(/"/g, '""')}"`;
}
