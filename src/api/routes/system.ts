// The REST API's administration routes written with the framework (issue 15): staging,
// provisioning accounts, the change record and audit, lint. Each topic has its own file.
import type { RouteDef } from '../route.ts';
import { routes as accounts } from './accounts.ts';
import { routes as lint } from './lint.ts';
import { routes as records } from './records.ts';
import { routes as staging } from './staging.ts';

export const routes: RouteDef[] = [...staging, ...accounts, ...records, ...lint];
