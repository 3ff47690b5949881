import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  AliasRequestBodySchema,
  IdentityRequestBodySchema,
  IdentityResponseSchema,
  ModifyRequestBodySchema,
  ModifyResponseSchema,
} from '../../../shared/protocol/idsync.ts';
import { apiError, ERROR_CATALOGUE, errorBody, ErrorBodySchema } from '../../../shared/protocol/errors.ts';
import { MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../../shared/protocol/version.ts';
import {
  DeviceConfigSchema,
  DeviceCredentialSchema,
  DeviceEventSchema,
  DeviceRegistrationSchema,
  ProfileProjectionSchema,
  PullResponseSchema,
  PushResponseSchema,
  PushedRequestSchema,
  PushRowSchema,
  RoundRequestSchema,
  RoundResponseSchema,
  SYNC_PROTOCOL_VERSION,
  SyncRequestDocSchema,
} from '../../../shared/protocol/sync.ts';
import { ExplainTraceSchema } from '../../../shared/resolver/trace.ts';
import { canonicalJson, hash53 } from '../../../shared/util/fingerprint.ts';

/**
 * Pinned fingerprint of the wire schemas. When this test fails you changed the protocol: decide
 * whether the change is compatible, bump PROTOCOL_VERSION if it is not, add a line to the history
 * in shared/protocol/version.ts, and pin the new fingerprint here.
 */
/** Repinned 2026-12 for the new error reason SYNC_PROTOCOL_UNSUPPORTED (compatible: a new reason). */
const PINNED = { version: 1, fingerprint: '#1db8f5501ed900' };

function fingerprintOf(schemas: Record<string, z.ZodType>): string {
  const json = Object.fromEntries(
    Object.entries(schemas).map(([name, schema]) => [
      name,
      z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }),
    ]),
  );
  return hash53(canonicalJson(json));
}

/** Pinned fingerprint of the device replication schemas (same rules, SYNC_PROTOCOL_VERSION). */
const PINNED_SYNC = { version: 3, fingerprint: '#0ead45673f3886' };

function syncFingerprint(): string {
  return fingerprintOf({
    registration: DeviceRegistrationSchema,
    credential: DeviceCredentialSchema,
    requestDoc: SyncRequestDocSchema,
    profile: ProfileProjectionSchema,
    event: DeviceEventSchema,
    pushRow: PushRowSchema(z.unknown()),
    pushResponse: PushResponseSchema(z.unknown()),
    pullResponse: PullResponseSchema(z.unknown()),
    config: DeviceConfigSchema,
    pushedRequest: PushedRequestSchema,
    round: RoundRequestSchema,
    roundResponse: RoundResponseSchema,
  });
}

function schemaFingerprint(): string {
  const schemas = {
    identityRequest: IdentityRequestBodySchema,
    modifyRequest: ModifyRequestBodySchema,
    aliasRequest: AliasRequestBodySchema,
    identityResponse: IdentityResponseSchema,
    modifyResponse: ModifyResponseSchema,
    errorBody: ErrorBodySchema,
    trace: ExplainTraceSchema,
  };
  return fingerprintOf(schemas);
}

describe('protocol version', () => {
  it('[PV-1] the minimum supported version never exceeds the current one', () => {
    expect(MIN_SUPPORTED_PROTOCOL_VERSION).toBeLessThanOrEqual(PROTOCOL_VERSION);
  });

  it('[PV-2] the wire schemas match the pinned fingerprint of this protocol version', () => {
    expect({ version: PROTOCOL_VERSION, fingerprint: schemaFingerprint() }).toEqual(PINNED);
  });

  it('[PV-3] the device replication schemas match the pinned fingerprint of the sync protocol version', () => {
    expect({ version: SYNC_PROTOCOL_VERSION, fingerprint: syncFingerprint() }).toEqual(PINNED_SYNC);
  });
});

describe('error body', () => {
  it('[ER-2] carries the IDSync-family code, our precise reason, the request id and the status', () => {
    const body = errorBody(
      apiError('UNKNOWN_IDENTITY_TYPE', 'unknown identity type "fax"', 'known_identities.fax'),
      'r1',
    );
    expect(body).toEqual({
      errors: [
        {
          code: 'VALIDATION_ERROR',
          message: 'unknown identity type "fax"',
          reason: 'UNKNOWN_IDENTITY_TYPE',
          path: 'known_identities.fax',
        },
      ],
      request_id: 'r1',
      status_code: 400,
    });
    expect(ErrorBodySchema.parse(body)).toEqual(body);
  });

  it('[ER-1] every catalogue code has a 4xx or 5xx status and an IDSync-family wire code', () => {
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect([
        'VALIDATION_ERROR',
        'LOOKUP_ERROR',
        'NOT_FOUND_ERROR',
        'ALIAS_ERROR',
        'BAD_REQUEST',
        'INTERNAL_ERROR',
      ]).toContain(entry.wire);
    }
  });
});
