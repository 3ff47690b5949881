/**
 * A Web Storage (`localStorage`) kept in a folder, one file per key, each write atomic (temp file
 * and rename). RxDB's localstorage storage on top of it gives a device database that survives a
 * killed Node process, which the crash-safety tests need (in browsers and Electron the device uses
 * IndexedDB instead).
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class FileLocalStorage {
  private readonly items = new Map<string, string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const file of readdirSync(dir)) {
      if (file.endsWith('.tmp')) continue;
      this.items.set(decodeURIComponent(file), readFileSync(path.join(dir, file), 'utf8'));
    }
  }

  get length(): number {
    return this.items.size;
  }

  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }

  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }

  setItem(key: string, value: string): void {
    const file = path.join(this.dir, encodeURIComponent(key));
    writeFileSync(`${file}.tmp`, value);
    renameSync(`${file}.tmp`, file);
    this.items.set(key, value);
  }

  removeItem(key: string): void {
    rmSync(path.join(this.dir, encodeURIComponent(key)), { force: true });
    this.items.delete(key);
  }

  clear(): void {
    for (const key of [...this.items.keys()]) this.removeItem(key);
  }
}
