/**
 * Idempotency by `request_id` (SPEC IP-1..IP-4). A request whose id is already stored in the scope
 * is answered from the store and writes nothing; the same id with a different body is refused
 * with REQUEST_ID_CONFLICT (also writing nothing), so a client bug that reuses ids cannot be
 * mistaken for a retry.
 */
import { apiError } from '../protocol/errors.ts';
import { fingerprint, hash53 } from '../util/fingerprint.ts';
import type { IdentityMap } from '../protocol/idsync.ts';
import { failure } from './outcome.ts';
import type { RequestKind, StoredRequest } from './records.ts';
import { store, type Program, type WriteSet } from './store-port.ts';

export type ReplayCheck =
  | { readonly kind: 'fresh' }
  | { readonly kind: 'replay'; readonly stored: StoredRequest }
  | { readonly kind: 'conflict'; readonly failure: ReturnType<typeof failure> };

const FRESH: ReplayCheck = { kind: 'fresh' };

export function requestFingerprint(kind: RequestKind, parts: unknown): string {
  return fingerprint([kind, parts]);
}

/**
 * The fingerprint of an identify/login/logout body: a canonical text (identity keys sorted, every
 * value length-prefixed so no separator can be forged), hashed only when it is long.
 */
export function identityFingerprint(
  kind: RequestKind,
  environment: string,
  previousMpid: string | null,
  identities: IdentityMap,
): string {
  const parts: string[] = [kind, environment, previousMpid ?? ''];
  for (const key in identities) {
    const value = identities[key as keyof IdentityMap] ?? '';
    const part = `${key}=${value.length}:${value}`;
    // Insertion sort: a request has a handful of identities, and this allocates nothing.
    let at = parts.length;
    while (at > 3 && (parts[at - 1] as string) > part) {
      parts[at] = parts[at - 1] as string;
      at--;
    }
    parts[at] = part;
  }
  const text = parts.join('|');
  return text.length <= MAX_PLAIN_FINGERPRINT ? text : hash53(text);
}

const MAX_PLAIN_FINGERPRINT = 256;

export function* checkReplay(
  scopeId: string,
  requestId: string | null,
  kind: RequestKind,
  print: string,
): Program<ReplayCheck> {
  if (requestId === null) return FRESH;
  const stored = yield* store.getRequest(scopeId, requestId);
  if (stored === null) return FRESH;
  if (stored.kind === kind && stored.fingerprint === print) return { kind: 'replay', stored };
  return {
    kind: 'conflict',
    failure: failure(
      apiError(
        'REQUEST_ID_CONFLICT',
        `request_id "${requestId}" was already used for a different ${stored.kind} request; send a new request_id`,
        'request_id',
      ),
      requestId,
    ),
  };
}

/**
 * What is stored of a successful request (SPEC LS-1, LS-2): all of it, trace included, when it
 * changed the graph (`changedGraph`: it appended history, HI-1); its fingerprint and response
 * without the trace when it changed nothing but the client sent a `request_id` (idempotency needs
 * them); nothing otherwise.
 */
export function leanRequest(
  full: StoredRequest,
  changedGraph: boolean,
  clientRequestId: string | null,
): StoredRequest | null {
  if (changedGraph) return full;
  if (clientRequestId === null) return null;
  // Field by field, in the full request's key order: one object shape for every lean request.
  return {
    scopeId: full.scopeId,
    requestId: full.requestId,
    kind: full.kind,
    environment: full.environment,
    fingerprint: full.fingerprint,
    at: full.at,
    actor: full.actor,
    mpids: full.mpids,
    status: full.status,
    response: full.response,
    trace: null,
  };
}

/** Commits the write set, or nothing at all when it holds nothing (LS-3: no empty commit). */
export function* commitUnlessEmpty(write: WriteSet): Program<void> {
  if (write.changes.length === 0 && write.history.length === 0 && write.request === null) return;
  yield* store.commit(write);
}

/** The note on a trace recomputed for a replay whose stored request kept none (LS-2). */
export const RECOMPUTED_NOTE =
  'replay: the request changed nothing, so its trace was recomputed on the current graph';
