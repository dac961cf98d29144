// `polyprov staging on|off|status`: whether the factory PlcmSpIp account is accepted. The
// switch lives in the store, so every running node picks it up within seconds.
import type { Command } from 'commander';
import { addStateOptions } from '../options.ts';
import type { RegisterCommand } from './exit.ts';
import { flagsOf, printJson, usage, withStore } from './state-store.ts';

export const register: RegisterCommand = (program: Command) => {
  addStateOptions(
    program
      .command('staging')
      .argument('[state]', 'on | off | status', 'status')
      .description('accept (on) or refuse (off) the factory PlcmSpIp account; staged phones are enrolled with their own credentials')
      .option('--json', 'machine-readable output'),
  ).action(async (state: string, _o, c: Command) => {
    const flags = flagsOf<{ data?: string; config?: string; json?: boolean }>(c);
    if (!['on', 'off', 'status'].includes(state)) throw usage(`"${state}": expected on, off or status`);
    await withStore(flags, async (store, opts) => {
      if (state !== 'status') await store.settings.set('staging', state);
      const v = await store.settings.get('staging');
      const on = v === undefined ? opts.staging : v === 'on';
      if (flags.json) return printJson({ staging: on });
      process.stdout.write(`staging ${on ? 'on: PlcmSpIp/PlcmSpIp is accepted and phones that use it are enrolled' : 'off: PlcmSpIp is refused'}\n`);
    });
  });
};
