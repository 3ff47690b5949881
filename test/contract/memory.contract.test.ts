import { MemoryIdentityStore } from '../../shared/memory-store/memory-store.ts';
import type { AdapterFactory } from './adapter.ts';
import { registerScenarioSuite } from './scenarios.ts';
import { registerStoreContract } from './store-contract.ts';

const memory: AdapterFactory = {
  name: 'memory',
  create: () => Promise.resolve({ store: new MemoryIdentityStore(), close: () => Promise.resolve() }),
};

registerStoreContract(memory);
registerScenarioSuite(memory);
