import { describe } from 'vitest';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import { openTestPostgres, pgSkipReason } from '../helpers/postgres.ts';
import type { AdapterFactory } from './adapter.ts';
import { registerScenarioSuite } from './scenarios.ts';
import { registerStoreContract } from './store-contract.ts';

const postgres: AdapterFactory = {
  name: 'postgres',
  async create() {
    const handle = await openTestPostgres();
    return { store: new SqlIdentityStore(handle), close: () => handle.close() };
  },
};

describe.skipIf(pgSkipReason !== null)(
  `PostgreSQL ${pgSkipReason === null ? '' : `(skipped: ${pgSkipReason})`}`,
  () => {
    registerStoreContract(postgres);
    registerScenarioSuite(postgres);
  },
);
