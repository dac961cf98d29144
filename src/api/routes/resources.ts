// The resource routes of the REST API (issue 15 "Resources"), in one list that routes/index.ts
// spreads into the route table: inventory, uploads and the contact directory, the parameter
// catalogue, dashboard stats, check-sync jobs, and the managed fleet (tenants, sites, groups,
// phones, settings, import/export, explain). A route that takes no query parameters refuses any
// (unknown fields are refused, never ignored: a typo such as ?sitee=hq must not list everything).
import type { RouteDef } from '../route.ts';
import { routes as catalogue } from './catalogue.ts';
import { routes as checksync } from './checksync.ts';
import { routes as explain } from './explain.ts';
import { routes as fleetIo } from './fleet-io.ts';
import { routes as inventory } from './inventory.ts';
import { routes as phones } from './phones.ts';
import { routes as settings } from './settings.ts';
import { routes as stats } from './stats.ts';
import { routes as tenants } from './tenants.ts';
import { routes as uploads } from './uploads.ts';

const NO_QUERY = { type: 'object', properties: {}, additionalProperties: false };

export const resourceRoutes: readonly RouteDef[] = [...tenants, ...phones, ...settings, ...fleetIo, ...explain, ...inventory, ...uploads, ...catalogue, ...stats, ...checksync].map((r) =>
  r.schema.querystring ? r : { ...r, schema: { ...r.schema, querystring: NO_QUERY } },
);
