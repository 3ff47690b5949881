/** Runs the project's layering rule alone over a snippet, as if it were the named file of the repo. */
import path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import local from '../../eslint-rules/layering.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');

/** The layering rule's messages for `code` placed at `relativeFile`. */
export function lintLayering(relativeFile: string, code: string): string[] {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(
    code,
    [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { local },
        rules: { 'local/layering': 'error' },
      },
    ],
    path.join(ROOT, relativeFile),
  );
  return messages.map((m) => m.message);
}
