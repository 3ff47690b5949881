/**
 * The identity store and the device log meet only at their port (SPEC SS-6, SS-7): the layering
 * rule reports an import across the boundary, and the real files of `server/db` cross none.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintLayering as lint, ROOT } from '../helpers/lint-layering.ts';

describe('server/db boundaries', () => {
  it('[SS-6] a device-* module may not import the SQL identity store, by value or by type', () => {
    for (const code of [
      "import { SqlIdentityStore } from './sql-identity-store.ts';",
      "import type { SqlStoreLogic } from './sql-identity-store.ts';",
      "export { toProfile } from './sql-identity-store.ts';",
    ]) {
      expect(lint('server/db/device-store.ts', code)).toEqual([
        'Bad layering: server/db/device-store.ts must not import server/db/sql-identity-store.ts: the device log reaches the identity store only through identity-store-port.ts (SPEC SS-6)',
      ]);
    }
    expect(lint('server/db/device-anything.ts', "import x from '../db/sql-identity-store.ts';")).toHaveLength(
      1,
    );
  });

  it('[SS-7] the SQL identity store may not import a device-* module', () => {
    expect(
      lint('server/db/sql-identity-store.ts', "import { deviceLogObserver } from './device-observer.ts';"),
    ).toEqual([
      'Bad layering: server/db/sql-identity-store.ts must not import server/db/device-observer.ts: the identity store knows the device log only as its observer (SPEC SS-7)',
    ]);
  });

  it('[SS-6][SS-7] both may import the port; other server modules may import either', () => {
    expect(
      lint('server/db/device-store.ts', "import type { IdentityStorePort } from './identity-store-port.ts';"),
    ).toEqual([]);
    expect(
      lint(
        'server/db/sql-identity-store.ts',
        "import type { IdentityStoreObserver } from './identity-store-port.ts';",
      ),
    ).toEqual([]);
    expect(
      lint(
        'server/server.ts',
        "import { DeviceStore } from './db/device-store.ts';\nimport { SqlIdentityStore } from './db/sql-identity-store.ts';",
      ),
    ).toEqual([]);
  });

  it('[SS-6][SS-7] the files of server/db as they are cross no boundary', () => {
    const dir = path.join(ROOT, 'server/db');
    const files = readdirSync(dir).filter(
      (f) => f.startsWith('device-') || f.startsWith('sql-identity-store'),
    );
    expect(files).toContain('device-store.ts');
    for (const file of files) {
      expect(lint(`server/db/${file}`, readFileSync(path.join(dir, file), 'utf8')), file).toEqual([]);
    }
  });
});
