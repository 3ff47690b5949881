/**
 * Protocol version of the IDSync-compatible HTTP API and of the records the resolver stores.
 *
 * History (never rewrite an entry; add one per change):
 *   1 — 2026-11: IDSync v1 bodies (identify, login, logout, search, modify, alias), the error body
 *       with `reason`, stored explain traces version 1; the modify 200 body carries `mpid` and
 *       `is_logged_in` beside `change_results` (the web SDK reads `is_logged_in` after modify).
 *
 * Rules: a change a v1 client can ignore (a new optional response field) does not bump the version;
 * any change that alters the meaning of an existing field or removes one bumps it, and
 * MIN_SUPPORTED_PROTOCOL_VERSION only ever increases. The schema fingerprint test pins the wire
 * schemas, so an unintended change fails CI until the version and this history are updated.
 */
export const PROTOCOL_VERSION = 1;
export const MIN_SUPPORTED_PROTOCOL_VERSION = 1;

if (MIN_SUPPORTED_PROTOCOL_VERSION > PROTOCOL_VERSION) {
  throw new Error('MIN_SUPPORTED_PROTOCOL_VERSION must not exceed PROTOCOL_VERSION');
}
