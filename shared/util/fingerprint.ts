/**
 * Canonical JSON (object keys sorted, recursively) and a 53-bit string hash over it. Used to tell
 * whether a request that reuses a `request_id` is the same request. Platform-free on purpose: the
 * device and the server must compute the same fingerprint.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** cyrb53: a fast, well-distributed 53-bit hash of a string, rendered as `#` and 14 hex digits. */
export function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `#${((h2 & 2097151) >>> 0).toString(16).padStart(6, '0')}${(h1 >>> 0).toString(16).padStart(8, '0')}`;
}

export function fingerprint(value: unknown): string {
  return hash53(flat(canonicalJson(value)));
}

/** A flat copy of a string built by concatenation (V8 keeps those as trees until flattened). */
function flat(text: string): string {
  return [text].join('');
}
