// The list of commands: one import and one array entry per command file; keep alphabetical.
import type { RegisterCommand } from './exit.ts';
import { register as accounts } from './accounts.ts';
import { register as audit } from './audit.ts';
import { register as bench } from './bench.ts';
import { register as changes } from './changes.ts';
import { register as dhcp } from './dhcp.ts';
import { register as explain } from './explain.ts';
import { register as fleet } from './fleet.ts';
import { register as init } from './init.ts';
import { register as lint } from './lint.ts';
import { register as logs } from './logs.ts';
import { register as notify } from './notify.ts';
import { register as overrides } from './overrides.ts';
import { register as phone } from './phone.ts';
import { register as phones } from './phones.ts';
import { register as render } from './render.ts';
import { register as secrets } from './secrets.ts';
import { register as serve } from './serve.ts';
import { register as settings } from './settings.ts';
import { register as staging } from './staging.ts';
import { register as store } from './store.ts';
import { register as tokens } from './tokens.ts';

export const COMMANDS: RegisterCommand[] = [accounts, audit, bench, changes, dhcp, explain, fleet, init, lint, logs, notify, overrides, phone, phones, render, secrets, serve, settings, staging, store, tokens];
