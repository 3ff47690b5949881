/**
 * Authentication of IDSync requests (spec §4.2): HTTP Basic (key:secret), HMAC signatures
 * (`x-mp-key`, `Date`, `x-mp-signature` over METHOD "\n" Date "\n" path+query+body) and, for inputs
 * that allow it, the key alone (browsers and devices cannot keep a secret). A signature is accepted
 * once (HL-6). Every failure is a value naming what was wrong; the caller answers 401 and changes
 * nothing.
 */
import { createHmac } from 'node:crypto';
import { apiError, type ApiError } from '../../shared/protocol/errors.ts';
import { err, ok, type Result } from '../../shared/util/result.ts';
import { safeEqual, sha256Hex, type ServerKey } from './secrets.ts';
import type { SeenSignatures } from './seen-signatures.ts';

export interface InputCredential {
  readonly key: string;
  readonly workspaceId: string;
  readonly secretBox: string;
  readonly secretHash: string;
  readonly allowKeyOnly: boolean;
  /** The key opens the device sync API only (HT-9). */
  readonly syncOnly: boolean;
  readonly revoked: boolean;
}

export type AuthMode = 'basic' | 'hmac' | 'key_only';

export interface Principal {
  readonly apiKey: string;
  readonly workspaceId: string;
  readonly mode: AuthMode;
  readonly syncOnly: boolean;
}

export interface AuthRequest {
  readonly method: string;
  /** Path plus query string, exactly as requested. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body bytes as sent (after gzip decoding), signed by HMAC clients. */
  readonly body: Buffer;
  /** An API key carried in the path (the SDK alias endpoint), used like `x-mp-key`. */
  readonly pathKey?: string;
}

const MAX_CLOCK_SKEW_MS = 5 * 60_000;

function header(request: AuthRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const unauthorized = (message: string) => err(apiError('UNAUTHORIZED', message));

/** Compact ISO 8601 (`20170712T224127Z`, the docs) or any HTTP date (`Wed, 12 Jul 2017 …`, Android). */
function parseSignatureDate(text: string): number | null {
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (compact !== null) {
    const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = compact.slice(1).map(Number);
    return Date.UTC(y, mo - 1, d, h, mi, s);
  }
  const parsed = Date.parse(text);
  return Number.isNaN(parsed) ? null : parsed;
}

export function signature(secret: string, method: string, date: string, url: string, body: Buffer): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${method.toUpperCase()}\n${date}\n${url}`, 'utf8')
    .update(body)
    .digest('hex');
}

function usable(input: InputCredential | null, key: string): Result<InputCredential, ApiError> {
  if (input === null) return unauthorized(`unknown API key ${key.slice(0, 48)}`);
  if (input.revoked) return unauthorized('this API key was revoked');
  return ok(input);
}

export async function authenticate(
  request: AuthRequest,
  findInput: (key: string) => Promise<InputCredential | null>,
  serverKey: ServerKey,
  now: number,
  signatures: SeenSignatures,
): Promise<Result<Principal, ApiError>> {
  const authorization = header(request, 'authorization');
  if (authorization !== undefined && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) return unauthorized('Basic credentials must be base64(key:secret)');
    const key = decoded.slice(0, colon);
    const input = usable(await findInput(key), key);
    if (!input.ok) return input;
    if (!safeEqual(sha256Hex(decoded.slice(colon + 1)), input.value.secretHash))
      return unauthorized('wrong API secret');
    return ok({
      apiKey: key,
      workspaceId: input.value.workspaceId,
      mode: 'basic',
      syncOnly: input.value.syncOnly,
    });
  }
  const key = header(request, 'x-mp-key') ?? request.pathKey;
  if (key === undefined || key === '')
    return unauthorized('send x-mp-key (and a signature) or HTTP Basic credentials');
  const input = usable(await findInput(key), key);
  if (!input.ok) return input;
  const signed = header(request, 'x-mp-signature');
  if (signed !== undefined) {
    const date = header(request, 'date');
    if (date === undefined) return unauthorized('a signed request needs a Date header');
    const at = parseSignatureDate(date);
    if (at === null) return unauthorized('the Date header is not a date');
    if (Math.abs(now - at) > MAX_CLOCK_SKEW_MS)
      return unauthorized('the Date header is more than 5 minutes away from the server clock');
    const secret = serverKey.open(input.value.secretBox, key);
    if (secret === null)
      return unauthorized('this input secret cannot be read with the server key; re-create the input');
    const expected = signature(secret, request.method, date, request.url, request.body);
    if (!safeEqual(expected, signed.trim().toLowerCase()))
      return unauthorized('the signature does not match');
    const use = signatures.record(expected, at + MAX_CLOCK_SKEW_MS, now);
    if (use === 'replayed')
      return unauthorized('this signed request was already received (a replay); sign every request anew');
    if (use === 'unverifiable')
      return unauthorized(
        'the Date header is too old to check for replays right now; sign with the current Date',
      );
    return ok({
      apiKey: key,
      workspaceId: input.value.workspaceId,
      mode: 'hmac',
      syncOnly: input.value.syncOnly,
    });
  }
  if (!input.value.allowKeyOnly)
    return unauthorized('this input requires a signature or HTTP Basic credentials');
  return ok({
    apiKey: key,
    workspaceId: input.value.workspaceId,
    mode: 'key_only',
    syncOnly: input.value.syncOnly,
  });
}
