/**
 * Device MPID translation (SPEC SY-*, SS-4), written once for the server's device replay and the
 * what-if replay. A device names the MPIDs it answered itself; before its request runs, each is
 * replaced by the server's answer, through a translator the caller supplies (SQL reads on the
 * server, in-memory maps in what-if):
 * - `current`: the previous MPID of an identity request and a modify's target, i.e. the device's
 *   current user;
 * - `profile`: an alias's source and destination, i.e. profiles the device created or was sent.
 *
 * The body is parsed with the request's own schema before any field is read (SS-4). A body that
 * does not parse is left as sent and names nothing: its program answers the validation error.
 */
import { z } from 'zod';
import { AliasRequestBodySchema, IdentityRequestBodySchema } from '../shared/protocol/idsync.ts';
import type { SyncedRequestKind } from '../shared/protocol/sync.ts';
import type { ProgramRequest } from '../shared/resolver/program-for.ts';

export type MpidMeaning = 'profile' | 'current';

/** The server's MPID for one the device named; a generator so that it may read the database. */
export type MpidTranslator<Y> = (mpid: string, meaning: MpidMeaning) => Generator<Y, string, unknown>;

/** The fields of a device request that translation reads. */
export interface DeviceRequestInput {
  readonly kind: SyncedRequestKind;
  readonly body: Record<string, unknown>;
  readonly modifyMpid: string | null;
}

export interface TranslatedRequest {
  readonly kind: SyncedRequestKind;
  /** What the program resolves: the translated body, and a modify's translated target. */
  readonly request: ProgramRequest & { readonly body: Record<string, unknown> };
  /** The profiles a modify or alias acts on, translated: each must be in the device's view (HT-1). */
  readonly named: readonly string[];
}

const AliasDataSchema = z.object({ data: z.record(z.string(), z.unknown()) });

export function* translateDeviceRequest<Y>(
  sync: DeviceRequestInput,
  translate: MpidTranslator<Y>,
): Generator<Y, TranslatedRequest, unknown> {
  const { kind, body } = sync;
  const untouched: TranslatedRequest = { kind, request: { body }, named: [] };
  switch (kind) {
    case 'identify':
    case 'login':
    case 'logout': {
      const parsed = IdentityRequestBodySchema.safeParse(body);
      if (!parsed.success || parsed.data.previousMpid === null) return untouched;
      const previous = yield* translate(parsed.data.previousMpid, 'current');
      return { kind, request: { body: { ...body, previous_mpid: previous } }, named: [] };
    }
    case 'modify': {
      if (sync.modifyMpid === null) return { kind, request: { body, target: null }, named: [] };
      const target = yield* translate(sync.modifyMpid, 'current');
      return { kind, request: { body, target }, named: [target] };
    }
    case 'alias': {
      const parsed = AliasRequestBodySchema.safeParse(body);
      const raw = AliasDataSchema.safeParse(body);
      if (!parsed.success || !raw.success) return untouched;
      const source = yield* translate(parsed.data.sourceMpid, 'profile');
      const destination = yield* translate(parsed.data.destinationMpid, 'profile');
      const data = { ...raw.data.data, source_mpid: source, destination_mpid: destination };
      return { kind, request: { body: { ...body, data } }, named: [source, destination] };
    }
  }
}

/** The same translation with a translator that needs no reads (the what-if replay's maps). */
export function translateDeviceRequestNow(
  sync: DeviceRequestInput,
  translate: (mpid: string, meaning: MpidMeaning) => string,
): TranslatedRequest {
  // eslint-disable-next-line require-yield -- answers at once; the generator form is the shared one
  const now = function* (mpid: string, meaning: MpidMeaning): Generator<never, string, unknown> {
    return translate(mpid, meaning);
  };
  return translateDeviceRequest(sync, now).next().value;
}
