import { openDatabase } from '../../server/db/connect.ts';
import { SqlIdentityStore } from '../../server/db/sql-identity-store.ts';
import type { AdapterFactory } from './adapter.ts';
import { registerScenarioSuite } from './scenarios.ts';
import { registerStoreContract } from './store-contract.ts';

const sqlite: AdapterFactory = {
  name: 'sqlite',
  async create() {
    const handle = await openDatabase({ target: ':memory:' });
    return { store: new SqlIdentityStore(handle), close: () => handle.close() };
  },
};

registerStoreContract(sqlite);
registerScenarioSuite(sqlite);
