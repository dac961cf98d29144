// `polyprov staging on|off|status` and `polyprov staging reset MAC`, through the core's admin
// service (every change recorded with who made it). The switch says whether the factory
// PlcmSpIp account is accepted; it lives in the store, so every running node picks it up within
// seconds. `reset` withdraws the credentials a pending phone was issued at enrolment, so the
// next staging read issues new ones (issue 13 item 10).
import type { Command } from 'commander';
import { addStateOptions } from '../options.ts';
import { EXIT, type RegisterCommand } from './exit.ts';
import { flagsOf, macArg, printJson, usage, withState } from './state-store.ts';

interface StagingFlags {
  data?: string;
  config?: string;
  json?: boolean;
  force?: boolean;
}

export const register: RegisterCommand = (program: Command, setExit) => {
  addStateOptions(
    program
      .command('staging')
      .argument('[state]', 'on | off | status | reset', 'status')
      .argument('[mac]', 'for reset: the pending phone')
      .description('accept (on) or refuse (off) the factory PlcmSpIp account; staged phones are enrolled with their own credentials; reset MAC issues a pending phone new ones')
      .option('--force', 'reset: also a phone that already uses its enrolment credentials')
      .option('--json', 'machine-readable output'),
  ).action(async (state: string, macText: string | undefined, _o, c: Command) => {
    const flags = flagsOf<StagingFlags>(c);
    if (!['on', 'off', 'status', 'reset'].includes(state)) throw usage(`"${state}": expected on, off, status or reset MAC`);
    if (state === 'reset') {
      if (macText === undefined) throw usage('staging reset needs the MAC of the phone to reset');
      const mac = macArg(macText);
      return withState(flags, async (admin) => {
        const r = await admin.staging.reset(mac, flags.force === true);
        if (r.status === 'enrolled') {
          setExit(EXIT.problem);
          if (flags.json) return printJson({ mac, reset: false, account: r.account.user, pending: false });
          process.stderr.write(`polyprov: phone ${mac} already uses its enrolment account ${r.account.user}; give --force to withdraw it (the phone then needs staging again)\n`);
          return;
        }
        if (flags.json) return printJson({ mac, reset: true, ...(r.removed ? { account: r.removed.user } : {}) });
        process.stdout.write(`${mac}: enrolment reset${r.removed ? ` (account ${r.removed.user} removed)` : ''}; the next staging read issues new credentials\n`);
      });
    }
    if (macText !== undefined) throw usage(`staging ${state} takes no MAC`);
    await withState(flags, async (admin) => {
      const s = state === 'status' ? await admin.staging.status() : await admin.staging.set(state === 'on');
      if (flags.json) return printJson({ staging: s.on });
      process.stdout.write(`staging ${s.on ? 'on: PlcmSpIp/PlcmSpIp is accepted and phones that use it are enrolled' : 'off: PlcmSpIp is refused'}\n`);
    });
  });
};
