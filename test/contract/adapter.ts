import type { TestStore } from '../helpers/harness.ts';

/** How a contract suite gets a fresh, empty store of one adapter, and gives it back. */
export interface AdapterFactory {
  readonly name: string;
  create(): Promise<{ store: TestStore; close: () => Promise<void> }>;
}
