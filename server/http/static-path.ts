/**
 * Maps a request path under /app/ to a file inside the app folder, or to nothing.
 *
 * Invariant: nothing outside the app folder is ever opened. The raw (still encoded) path is split
 * at its slashes first and each segment is decoded on its own, so an encoded slash or dot can never
 * become a separator or a `..`; a segment that decodes to a slash, a backslash, a NUL or a leading
 * dot (`.`, `..`, hidden files) is refused; and the real path of the result, symlinks followed,
 * must still lie inside the real path of the folder.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** The decoded segments of the path after `/app/`; `[]` for the folder itself; `null` if refused. */
export function appPathSegments(encoded: string): string[] | null {
  if (encoded === '') return [];
  const segments: string[] = [];
  for (const part of encoded.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(part);
    } catch {
      return null;
    }
    if (segment === '' || segment.startsWith('.') || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

/** The real path of the regular file at `segments` inside `root`, or null if there is none. */
export async function fileInside(root: string, segments: readonly string[]): Promise<string | null> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(path.join(realRoot, ...segments));
    if (!real.startsWith(realRoot + path.sep)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}
