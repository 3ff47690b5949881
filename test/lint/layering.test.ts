/**
 * The layering rule reports forbidden imports, and the project's ESLint config applies it.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ESLint } from 'eslint';
import { lintLayering as lint, ROOT } from '../helpers/lint-layering.ts';

describe('layering lint rule', () => {
  it('[RS-1] shared/resolver may not import RxDB, Node built-ins, SQL drivers or other layers', () => {
    const file = 'shared/resolver/example.ts';
    expect(lint(file, "import { createRxDatabase } from 'rxdb';")).toEqual([
      'Bad layering: shared may only use the packages zod; "rxdb" is not allowed here',
    ]);
    expect(lint(file, "import fs from 'node:fs';")[0]).toContain(
      'must not import the Node built-in "node:fs"',
    );
    expect(lint(file, "import crypto from 'crypto';")[0]).toContain('Node built-in');
    expect(lint(file, "import Database from 'better-sqlite3';")[0]).toContain(
      '"better-sqlite3" is not allowed',
    );
    expect(lint(file, "import { x } from '../../server/http.ts';")[0]).toContain(
      'shared must not import from server',
    );
    expect(lint(file, "import { x } from '../device/engine.ts';")[0]).toContain(
      'shared must not import from shared/device',
    );
    expect(lint(file, "export * from '../../renderer/app.ts';")[0]).toContain(
      'must not import from renderer',
    );
    expect(lint(file, "const m = import('../../electron/main/index.ts');")[0]).toContain(
      'must not import from electron',
    );
  });

  it('[RS-1] allowed imports are not reported', () => {
    expect(
      lint('shared/resolver/example.ts', "import { z } from 'zod';\nimport { ok } from '../util/result.ts';"),
    ).toEqual([]);
    expect(
      lint(
        'shared/device/example.ts',
        "import { createRxDatabase } from 'rxdb';\nimport { ok } from '../util/result.ts';",
      ),
    ).toEqual([]);
    expect(
      lint('server/example.ts', "import fs from 'node:fs';\nimport { ok } from '../shared/util/result.ts';"),
    ).toEqual([]);
  });

  it('[RS-1] server, electron and renderer never depend on each other', () => {
    expect(lint('server/example.ts', "import x from '../renderer/app.ts';")[0]).toContain(
      'server must not import from renderer',
    );
    expect(lint('server/example.ts', "import x from '../shared/device/engine.ts';")[0]).toContain(
      'server must not import from shared/device',
    );
    expect(lint('server/example.ts', "import { app } from 'electron';")[0]).toContain(
      'must not depend on "electron"',
    );
    expect(lint('renderer/app.ts', "import x from '../server/http.ts';")[0]).toContain(
      'renderer must not import from server',
    );
    expect(lint('renderer/app.ts', "import { ipcRenderer } from 'electron';")[0]).toContain('"electron"');
    expect(lint('electron/main/index.ts', "import x from '../../renderer/app.ts';")[0]).toContain(
      'electron must not import from renderer',
    );
    expect(lint('electron/preload/index.ts', "import fs from 'node:fs';")[0]).toContain('Node built-in');
    expect(lint('electron/main/index.ts', "import x from '../../server/cli.ts';")[0]).toContain(
      'electron must not import from server',
    );
    expect(lint('renderer/src/db.ts', "import { createRxDatabase } from 'rxdb';")[0]).toContain(
      'renderer must not depend on "rxdb"',
    );
    expect(lint('renderer/src/fs.ts', "import fs from 'node:fs';")[0]).toContain('Node built-in');
    expect(
      lint(
        'renderer/src/db.ts',
        "import { openBrowserDeviceDatabase } from '../../shared/device/browser.ts';",
      ),
    ).toEqual([]);
  });

  it('[RS-1] build tool configuration is not layer code', () => {
    expect(lint('renderer/vite.config.ts', "import path from 'node:path';")).toEqual([]);
  });

  it('[RS-1] the project config enables the rule for every source folder', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const file of [
      'shared/resolver/lookup.ts',
      'shared/identity/mpid.ts',
      'shared/protocol/idsync.ts',
      'shared/device/engine.ts',
      'electron/main/index.ts',
      'electron/preload/index.ts',
      'renderer/src/main.tsx',
    ]) {
      const config = (await eslint.calculateConfigForFile(path.join(ROOT, file))) as {
        rules: Record<string, unknown>;
      };
      expect(config.rules['local/layering'], file).toEqual([2]);
    }
  });
});
