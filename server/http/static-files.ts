/**
 * Sends one file of the app: content type by extension, the cache policy of its path, a validator
 * (ETag and Last-Modified) so reloads revalidate with a 304, and no body for HEAD.
 */
import { open } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { contentTypeOf } from '../../shared/util/content-types.ts';

export const NO_CACHE = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=300';

/** Files that name the current build: always revalidated, so a new build is picked up at once. */
const ENTRY_FILES = new Set(['index.html', 'sw.js', 'manifest.webmanifest']);

/**
 * The cache policy of a path relative to the app folder. Vite writes only content-hashed names
 * under `assets/`, so those never change and are cached for a year.
 */
export function cacheControlOf(relative: string): string {
  if (ENTRY_FILES.has(relative)) return NO_CACHE;
  return relative.startsWith('assets/') ? IMMUTABLE : SHORT;
}

function notModified(request: FastifyRequest, etag: string, mtimeMs: number): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.split(',').some((tag) => {
      const trimmed = tag.trim();
      return trimmed === '*' || trimmed.replace(/^W\//, '') === etag.replace(/^W\//, '');
    });
  }
  const since = Date.parse(request.headers['if-modified-since'] ?? '');
  return !Number.isNaN(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/** Sends `file` (a real path already checked to be inside the app folder). */
export async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: string,
  cacheControl: string,
): Promise<FastifyReply> {
  // Size, validators and body all come from one open file, even if a build replaces it meanwhile.
  const handle = await open(file, 'r');
  try {
    const stats = await handle.stat();
    const etag = `W/"${stats.size.toString(16)}-${Math.floor(stats.mtimeMs).toString(16)}"`;
    reply
      .header('cache-control', cacheControl)
      .header('etag', etag)
      .header('last-modified', stats.mtime.toUTCString());
    if (notModified(request, etag, stats.mtimeMs)) {
      await handle.close();
      return reply.code(304).send();
    }
    reply.header('content-type', contentTypeOf(file)).header('content-length', String(stats.size));
    if (request.method === 'HEAD') {
      await handle.close();
      return reply.send();
    }
    return reply.send(handle.createReadStream());
  } catch (error) {
    await handle.close();
    throw error;
  }
}
