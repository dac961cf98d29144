// Placeholder until the PostgreSQL backend lands (same interface as src/store/sqlite/).
import { ProvError } from '../../core/errors.ts';
import type { Store } from '../store.ts';

export interface PgStoreOptions {
  connectionString: string;
  schema?: string;
  tmpDir: string;
}

export class PgStore {
  constructor(readonly opts: PgStoreOptions) {}
  async init(): Promise<void> {
    throw new ProvError('PP_OPT_INVALID', 'the PostgreSQL store is not available yet; use storeUrl "sqlite"');
  }
}
export type { Store };
