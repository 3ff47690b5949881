/**
 * The error-code catalogue (SPEC ER-1..ER-3). Every expected failure anywhere in the product is one
 * of these codes, carried as a value. Each code fixes its HTTP status and the IDSync-family code
 * that goes into the wire body's `errors[].code` (the documented codes are VALIDATION_ERROR,
 * LOOKUP_ERROR, NOT_FOUND_ERROR, ALIAS_ERROR, INTERNAL_ERROR...); the precise code travels as
 * `errors[].reason`. Codes are never renamed or reused: retire a code by leaving it here with a
 * comment saying when and why.
 */
import { z } from 'zod';

export const ERROR_CATALOGUE = {
  /** The body is not the documented shape (missing field, wrong type, broken JSON). Fix the request. */
  VALIDATION_ERROR: { status: 400, wire: 'VALIDATION_ERROR' },
  /** A `known_identities` / `identity_type` key that is not in the identity catalogue (spec §1.6). */
  UNKNOWN_IDENTITY_TYPE: { status: 400, wire: 'VALIDATION_ERROR' },
  /** Two spellings of one identity type with different values in one request. */
  DUPLICATE_IDENTITY_TYPE: { status: 400, wire: 'VALIDATION_ERROR' },
  /** An identity value that is not a string, or longer than the limit. */
  INVALID_IDENTITY_VALUE: { status: 400, wire: 'VALIDATION_ERROR' },
  /** Every identity in the request was empty or blocked (D2): nothing to resolve with. */
  NO_USABLE_IDENTITIES: { status: 400, wire: 'VALIDATION_ERROR' },
  /** A value that is not a canonical non-zero signed 64-bit decimal MPID. */
  INVALID_MPID: { status: 400, wire: 'VALIDATION_ERROR' },
  /** Modify or alias named an MPID that does not exist in this scope and environment (or is orphaned). */
  LOOKUP_ERROR: { status: 400, wire: 'LOOKUP_ERROR' },
  /** Modify would change or remove an immutable identity (A8). */
  IMMUTABLE_IDENTITY: { status: 400, wire: 'VALIDATION_ERROR' },
  /** Modify of a type that cannot be modified (device application stamp) or is not in the priority. */
  IDENTITY_NOT_MODIFIABLE: { status: 400, wire: 'VALIDATION_ERROR' },
  /** Modify tried to store a blocked value (D2). */
  BLOCKED_IDENTITY_VALUE: { status: 400, wire: 'VALIDATION_ERROR' },
  /** Search found no eligible profile. Not a failure of the request, but the IDSync answer is a 404. */
  NOT_FOUND_ERROR: { status: 404, wire: 'NOT_FOUND_ERROR' },
  /** A `request_id` was reused with a different request body. Use a new id for a new request. */
  REQUEST_ID_CONFLICT: { status: 409, wire: 'BAD_REQUEST' },
  /** The workspace's strategy does not offer this request (best match login/logout with `reject`). */
  STRATEGY_UNSUPPORTED: { status: 400, wire: 'BAD_REQUEST' },
  /** An alias request failed synchronous validation (same MPIDs, bad time range, unknown MPID). */
  ALIAS_ERROR: { status: 400, wire: 'ALIAS_ERROR' },
  /** Aliasing is not available for this strategy or is switched off for the workspace. */
  ALIAS_NOT_AVAILABLE: { status: 403, wire: 'ALIAS_ERROR' },
  /** A workspace configuration failed validation. */
  INVALID_CONFIG: { status: 400, wire: 'VALIDATION_ERROR' },
  /** No valid credentials: unknown or revoked key, wrong secret, bad or stale signature. */
  UNAUTHORIZED: { status: 401, wire: 'BAD_REQUEST' },
  /** Valid credentials that may not do this (key-only use not allowed for the input, wrong workspace). */
  FORBIDDEN: { status: 403, wire: 'BAD_REQUEST' },
  /** No such route or resource. */
  NOT_FOUND: { status: 404, wire: 'NOT_FOUND_ERROR' },
  /** A change that conflicts with stored data (a config that would make duplicate values unique). */
  CONFLICT: { status: 409, wire: 'BAD_REQUEST' },
  /** The body is larger than the limit for this route. */
  PAYLOAD_TOO_LARGE: { status: 413, wire: 'BAD_REQUEST' },
  /** The body is not JSON (or not gzip-compressed JSON). */
  UNSUPPORTED_MEDIA_TYPE: { status: 415, wire: 'BAD_REQUEST' },
  /**
   * A device speaks a sync protocol version this server does not (too old, too new, or not a
   * version): the person on the device is told to update the app.
   */
  SYNC_PROTOCOL_UNSUPPORTED: { status: 400, wire: 'BAD_REQUEST' },
  /** Too many requests for this key; retry after the `Retry-After` seconds. */
  RATE_LIMITED: { status: 429, wire: 'BAD_REQUEST' },
  /** Something that should never happen did; the request changed nothing. */
  INTERNAL_ERROR: { status: 500, wire: 'INTERNAL_ERROR' },
  /** The server is starting or stopping, or its database is unreachable; retry with back-off. */
  UNAVAILABLE: { status: 503, wire: 'INTERNAL_ERROR' },
} as const satisfies Record<string, { status: number; wire: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]]);

/** An expected failure, as a value. `path` points into the request when one field is to blame. */
export interface ApiError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly path?: string;
}

export function apiError(code: ErrorCode, message: string, path?: string): ApiError {
  return path === undefined ? { code, message } : { code, message, path };
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].status;
}

/** The documented IDSync error body plus `request_id` and `status_code` (A15). */
export const ErrorBodySchema = z.object({
  errors: z
    .array(
      z.object({
        code: z.string(),
        message: z.string(),
        reason: ErrorCodeSchema.optional(),
        path: z.string().optional(),
      }),
    )
    .min(1),
  request_id: z.string().nullable(),
  status_code: z.number().int(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

export function errorBody(error: ApiError, requestId: string | null): ErrorBody {
  const entry = {
    code: ERROR_CATALOGUE[error.code].wire,
    message: error.message,
    reason: error.code,
    ...(error.path === undefined ? {} : { path: error.path }),
  };
  return { errors: [entry], request_id: requestId, status_code: httpStatusOf(error.code) };
}
