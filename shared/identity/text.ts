/**
 * Text the product stores (SPEC HV-1, HV-2). Every string that reaches a database column as text —
 * identity values, event and attribute names and values, device names and stamps — is well-formed
 * UTF-16 and holds no control character except tab, line feed and carriage return (the characters
 * XML 1.0 allows).
 *
 * Such text is refused, never repaired: a lone surrogate becomes U+FFFD when a driver encodes it
 * as UTF-8, so the stored value would silently differ from the one the caller holds (and look-ups
 * by it would miss), and PostgreSQL refuses NUL in `text` outright while SQLite keeps it. Refusing
 * both in the shared schemas makes devices, the IDSync API and sync pushes agree, and makes the
 * two databases accept exactly the same values. Everything else — right-to-left marks, zero-width
 * characters, combining marks, emoji — is kept byte for byte.
 */
import { z } from 'zod';

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const DELETE = 0x7f;

function hex(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why `text` may not be stored, or `null` when it may. One pass over the UTF-16 code units. */
export function textProblem(text: string): string | null {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === DELETE) {
      if (code === TAB || code === LINE_FEED || code === CARRIAGE_RETURN) continue;
      return `holds the control character ${hex(code)} at position ${i}`;
    }
    if (code < 0xd800 || code > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    return `holds a lone UTF-16 surrogate ${hex(code)} at position ${i} (not well-formed Unicode)`;
  }
  return null;
}

/** A string of at most `max` characters that `textProblem` accepts (`VALIDATION_ERROR` otherwise). */
export function storedText(max: number, min = 0) {
  return z
    .string()
    .min(min)
    .max(max)
    .superRefine((text, ctx) => {
      const problem = textProblem(text);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: `the text ${problem}` });
    });
}

/** How deep JSON the device sends may nest (event data, request bodies): enough for any real use. */
export const MAX_JSON_DEPTH = 32;

/**
 * Why a JSON value may not be stored, or `null`: deeper than `MAX_JSON_DEPTH` (serialising it would
 * exhaust the stack), or a key or string that `textProblem` refuses. Checks `checkText` only when
 * asked: request documents carry identity values that the resolver checks with its own codes.
 */
export function jsonProblem(value: unknown, checkText: boolean, depth = 0): string | null {
  if (typeof value === 'string') return checkText ? textProblem(value) : null;
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_JSON_DEPTH) return `nests deeper than ${MAX_JSON_DEPTH} levels`;
  for (const [key, item] of Object.entries(value)) {
    const problem = (checkText ? textProblem(key) : null) ?? jsonProblem(item, checkText, depth + 1);
    if (problem !== null) return problem;
  }
  return null;
}
