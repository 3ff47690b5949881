/**
 * Which B-trees (tables and indexes) a stretch of writes touched, counted from SQLite's WAL: a
 * reader holds a snapshot from `start()` so the log cannot restart, `finish()` reads every frame
 * written since, and maps each frame's page to the table or index that owns it (`dbstat`). A frame
 * is one 4 KB page written by one commit; the same page written by two commits counts twice, as it
 * costs twice.
 */
import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

interface Frame {
  readonly page: number;
  readonly commit: boolean;
}

function walFrames(file: string): { salt: string; frames: Frame[] } {
  let buffer: Buffer;
  try {
    buffer = readFileSync(`${file}-wal`);
  } catch {
    return { salt: '', frames: [] };
  }
  if (buffer.length < 32) return { salt: '', frames: [] };
  const pageSize = buffer.readUInt32BE(8);
  const salt = buffer.subarray(16, 24).toString('hex');
  const frames: Frame[] = [];
  for (let at = 32; at + 24 + pageSize <= buffer.length; at += 24 + pageSize) {
    if (buffer.subarray(at + 8, at + 16).toString('hex') !== salt) break;
    frames.push({ page: buffer.readUInt32BE(at), commit: buffer.readUInt32BE(at + 4) !== 0 });
  }
  return { salt, frames };
}

export interface WalCount {
  readonly commits: number;
  readonly frames: number;
  /** frames per B-tree name, most first */
  readonly byTree: readonly { readonly name: string; readonly frames: number }[];
}

export function startWalCount(file: string): { finish(): WalCount } {
  const holder = new Database(file, { readonly: true, fileMustExist: true });
  holder.exec('begin');
  holder.prepare('select count(*) from sqlite_schema').get();
  const start = walFrames(file);
  return {
    finish() {
      const end = walFrames(file);
      holder.exec('commit');
      holder.close();
      if (end.salt !== start.salt) throw new Error('the WAL restarted while it was held');
      const frames = end.frames.slice(start.frames.length);
      const reader = new Database(file, { readonly: true, fileMustExist: true });
      const owner = new Map<number, string>();
      for (const row of reader.prepare('select name, pageno from dbstat').all() as {
        name: string;
        pageno: number;
      }[])
        owner.set(row.pageno, row.name);
      reader.close();
      const counts = new Map<string, number>();
      for (const frame of frames) {
        const name = owner.get(frame.page) ?? (frame.page === 1 ? 'sqlite_schema' : '(free or new)');
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      return {
        commits: frames.filter((f) => f.commit).length,
        frames: frames.length,
        byTree: [...counts].map(([name, n]) => ({ name, frames: n })).sort((a, b) => b.frames - a.frames),
      };
    },
  };
}
