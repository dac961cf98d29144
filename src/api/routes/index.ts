// The route table of the REST API (issue 15): every routes/*.ts file's `routes`, in one list.
// src/api/app.ts mounts them, the OpenAPI document and the role × tenant matrix test are
// generated from this list, so a route added here is served, documented and checked.
import type { RouteDef } from '../route.ts';
import { resourceRoutes } from './resources.ts';
import { routes as system } from './system.ts';
import { routes as tokens } from './tokens.ts';

export const allRoutes: readonly RouteDef[] = [...tokens, ...system, ...resourceRoutes];
