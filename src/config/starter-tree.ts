// The starter provisioning tree `polyprov init DIR` writes: a master file, separate directories
// for what phones upload and read, a site file with safe settings, an example per-phone file, the
// seed contact directory and a README. Every file says what it is for and cites the document it
// follows; `polyprov lint` on the result is clean (tested).

/** Directories, relative to the tree root (created empty; phones upload into them). */
export const STARTER_DIRECTORIES = ['logs', 'overrides', 'contacts', 'licenses', 'calls', 'phones'] as const;

const MASTER = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!--
  Master configuration file (written by polyprov init).
  Every phone reads this file first unless a file named after its MAC address (<MAC>.cfg, e.g.
  0004f2a1b2c3.cfg) exists next to it (Administrator's Guide, master configuration file).

  APP_FILE_PATH   firmware image. Empty: phones do not look for software (white paper, Master
                  Configuration File). To upgrade phones, copy Polycom's sip.ld (or the split
                  <part-number>.sip.ld files) here and set APP_FILE_PATH="sip.ld".
  CONFIG_FILES    read left to right; "the leftmost files take precedence" (white paper).
                  managed/[PHONE_MAC_ADDRESS].cfg is the phone's managed settings, rendered by
                  polyprov from its fleet data (polyprov fleet, polyprov settings); it is not a
                  file in this tree, and a phone polyprov does not manage gets an empty one. Keep
                  it first so managed settings win over the files below.
                  phones/[PHONE_MAC_ADDRESS].cfg is each phone's own file: the phone puts its MAC
                  in place of [PHONE_MAC_ADDRESS]. Line credentials (reg.1.auth.password) belong
                  there, never in site.cfg, which every phone reads.
                  See phones/example-phone.cfg.
  *_DIRECTORY     where phones upload logs (LOG_FILE_DIRECTORY), keypad and web-UI changes
                  (OVERRIDES_DIRECTORY: <MAC>-phone.cfg, <MAC>-web.cfg), their contact directory
                  (CONTACTS_DIRECTORY: <MAC>-directory.xml), call lists (CALL_LISTS_DIRECTORY),
                  and where they read licences (LICENSE_DIRECTORY). Empty means this directory.
-->
<APPLICATION
  APP_FILE_PATH=""
  CONFIG_FILES="managed/[PHONE_MAC_ADDRESS].cfg, phones/[PHONE_MAC_ADDRESS].cfg, site.cfg"
  MISC_FILES=""
  LOG_FILE_DIRECTORY="logs"
  OVERRIDES_DIRECTORY="overrides"
  CONTACTS_DIRECTORY="contacts"
  LICENSE_DIRECTORY="licenses"
  USER_PROFILES_DIRECTORY=""
  CALL_LISTS_DIRECTORY="calls"
  COREFILE_DIRECTORY=""/>
`;

const SITE = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!--
  Site-wide settings: every phone reads this file (it is in CONFIG_FILES of 000000000000.cfg).
  Keep secrets out of it: per-line passwords go in phones/<MAC>.cfg.
  Element names do not matter to the phone; only the attribute (parameter) names do.
-->
<polycomConfig>
  <!-- Your SIP server (registrar/proxy) for all lines; a phone file may override it per line. -->
  <voIpProt voIpProt.server.1.address="" voIpProt.server.1.port="5060">
    <!-- 0: a check-sync NOTIFY reboots the phone only when its files changed
         (white paper, SIP NOTIFY (Check-Sync)). 1 would reboot on every check-sync. -->
    <voIpProt.SIP voIpProt.SIP.specialEvent.checkSync.alwaysReboot="0"/>
  </voIpProt>
  <!-- The phone's Web Configuration Utility off: changes made there override this server
       (white paper: disable it on centrally provisioned phones). Set 1 only if you need it. -->
  <httpd httpd.cfg.enabled="0"/>
  <!-- Phones look for new configuration at boot and on check-sync (polyprov notify). Polling is
       off; to poll daily at 03:00 set prov.polling.enabled="1" (modes: abs, rel, random). -->
  <prov prov.polling.enabled="0" prov.polling.mode="abs" prov.polling.time="03:00"/>
</polycomConfig>
`;

const EXAMPLE_PHONE = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!--
  Example per-phone file. No phone reads it under this name.
  For a phone with MAC 00:04:f2:a1:b2:c3, copy it to phones/0004f2a1b2c3.cfg (lower-case hex, no
  separators): the master file lists phones/[PHONE_MAC_ADDRESS].cfg, so that phone, and only that
  phone, reads it. Values here win over site.cfg (it is further left in CONFIG_FILES).
-->
<polycomConfig>
  <reg reg.1.address="1001" reg.1.label="1001" reg.1.displayName="Front desk"
       reg.1.auth.userId="1001" reg.1.auth.password=""/>
</polycomConfig>
`;

const SEED_DIRECTORY = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<!--
  Seed contact directory. A phone reads 000000000000-directory.xml only when it has no contact
  directory of its own and no <MAC>-directory.xml exists (white paper, Configuring Your Local
  Contact Directory); it then keeps its own copy and uploads it as <MAC>-directory.xml here.
  Per contact: fn/ln names (at most 40 UTF-8 bytes), ct number or SIP URL (required, unique),
  sd speed dial 1-9999, rt ring type 1-21, ad/ar/bw/bb flags 0 or 1.
-->
<directory>
  <item_list>
    <item>
      <ln>Reception</ln><fn>Front desk</fn><ct>1001</ct><sd>1</sd><rt>1</rt>
      <dc/><ad>0</ad><ar>0</ar><bw>0</bw><bb>0</bb>
    </item>
  </item_list>
</directory>
`;

const README = `Polycom provisioning tree (written by polyprov init)
====================================================

Serve this directory with:   polyprov serve --root <this directory>
Check it at any time with:   polyprov lint <this directory>
See what one phone gets:     polyprov explain <this directory> --mac 0004f2a1b2c3 --model VVX410

What is here
  000000000000.cfg        master file every phone reads first (comments inside explain each field)
  site.cfg                site-wide settings: SIP server, web UI off, check-sync without reboot
  managed/<MAC>.cfg       not a file here: polyprov renders it per phone from its fleet data
                          (polyprov fleet import, polyprov settings set); listed first in CONFIG_FILES
  phones/                 one file per phone, named <MAC>.cfg (12 lower-case hex digits)
  phones/example-phone.cfg  copy this to phones/<MAC>.cfg for each phone
  contacts/               contact directories; 000000000000-directory.xml seeds new phones
  overrides/              phones upload <MAC>-phone.cfg (keypad) and <MAC>-web.cfg (web UI) to this path
  logs/                   phones upload <MAC>-boot.log and <MAC>-app.log to this path
  licenses/               <MAC>-license.cfg / 000000000000-license.cfg if you have feature licences
  calls/                  call lists phones upload

Where uploads go
  polyprov keeps every upload (logs, overrides, contact directories, call lists) in its store
  under the data directory (--data, default ./polyprov-data), versioned, not in these
  directories, which stay empty: the names above are where the phones send them. Read them with
    polyprov logs <MAC> [--kind boot|app] [--follow]    a phone's boot and application logs
    polyprov overrides list | show <MAC> | diff <MAC>   keypad and web-UI changes
    polyprov phone show <MAC>                           its last boots, request by request

Rules worth knowing (white paper "UC Software Provisioning Best Practices")
  - CONFIG_FILES: the leftmost file wins when two files set the same parameter.
  - Highest precedence of all: overrides/<MAC>-phone.cfg, then overrides/<MAC>-web.cfg.
  - device.* settings apply only with device.set="1" and their own device.<name>.set="1".
  - Put passwords in per-phone files only; site.cfg is read by every phone.
  - To install firmware, copy Polycom's sip.ld (or <part-number>.sip.ld) here and set
    APP_FILE_PATH="sip.ld" in 000000000000.cfg.
`;

/** Tree path → content of every file of the starter tree. */
export function starterFiles(): Record<string, string> {
  return {
    '000000000000.cfg': MASTER,
    'site.cfg': SITE,
    'phones/example-phone.cfg': EXAMPLE_PHONE,
    'contacts/000000000000-directory.xml': SEED_DIRECTORY,
    'README.txt': README,
  };
}
