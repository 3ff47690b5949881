/**
 * Admin profile search reads the identity index, never the whole table (SPEC AA-11): SQLite's plan
 * for the search the console sends, with and without an environment, seeks `identities_lookup`.
 * Before, a search without an environment skipped the index's second column and scanned every
 * identity of the workspace (0.5 s with 1,000,000 profiles; `npm run bench:admin-search`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../../server/db/connect.ts';
import { profileSearchQuery } from '../../../server/db/profile-admin.ts';

describe('admin profile search plan on SQLite', () => {
  let handle: DatabaseHandle;
  beforeEach(async () => {
    handle = await openDatabase({ target: ':memory:' });
  });
  afterEach(() => handle.close());

  async function plan(environment?: 'production' | 'development'): Promise<string> {
    const compiled = profileSearchQuery(handle.db, 'ws', 'email', 'a@x.com', environment).compile();
    const rows = await handle.db.executeQuery<{ detail: string }>({
      ...compiled,
      sql: `explain query plan ${compiled.sql}`,
    });
    return rows.rows.map((r) => r.detail).join('\n');
  }

  it('[AA-11] without an environment the search seeks the lookup index once per environment', async () => {
    const detail = await plan();
    expect(detail).toMatch(/SEARCH identities USING (COVERING )?INDEX identities_(lookup|unique_value)/);
    expect(detail).not.toMatch(/SCAN identities/);
    expect(detail).toMatch(/environment=\?/);
  });

  it('[AA-11] with an environment it seeks the same index', async () => {
    const detail = await plan('production');
    expect(detail).toMatch(/SEARCH identities USING (COVERING )?INDEX/);
    expect(detail).toMatch(/environment=\?/);
  });
});
