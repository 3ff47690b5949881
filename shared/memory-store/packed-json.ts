/**
 * A compact, lossless encoding of JSON-like values as one flat string (SPEC HM-1), for what the
 * memory store keeps of each request: a stored request with its explain trace takes about 1.7 KB
 * as objects and about 0.2 KB packed, and it is read back only for a replay or an export.
 *
 * The string is a sequence of tokens, each a tag character and its operands:
 *   `n` `t` `f` `u`            null, true, false, undefined (an object field set to undefined)
 *   `i` nat / `j` nat          a non-negative / negative safe integer (its magnitude)
 *   `d` nat chars              any other number, as `String(n)` (length-prefixed)
 *   `s` nat chars              a string (length-prefixed)
 *   `r` nat                    the nat-th string spelled out earlier in the same value
 *   `w` nat                    the nat-th word of the fixed dictionary (enum values of the records)
 *   `a` nat values…            an array of nat values
 *   `o` nat values…            an object of shape nat (its keys, in order), then each key's value
 * A nat is written in base 128, low digits first, one character per digit (0x80 marks "more
 * follows"), so a packed value made of Latin-1 text stays a one-byte string. Shapes are learnt
 * per `JsonPacker`: a packed string is only meaningful to the packer that wrote it.
 */
import { ENVIRONMENTS, STRATEGIES } from '../identity/scope-config.ts';
import { IDENTITY_TYPES } from '../identity/identity-types.ts';
import { ALIAS_STATUSES, HISTORY_KINDS, REQUEST_KINDS } from '../resolver/records.ts';
import {
  BRANCHES,
  EXCLUSION_REASONS,
  IDENTITY_USES,
  SITUATIONS,
  SKIP_REASONS,
  WRITE_ACTIONS,
} from '../resolver/trace.ts';

/** The digits of the nats below 128, made once: most lengths, counts and shape ids are small. */
const SMALL_NATS = Array.from({ length: 0x80 }, (_, i) => String.fromCharCode(i));

/** Strings most stored values repeat: written as a dictionary index instead of their letters. */
const WORDS: readonly string[] = [
  ...new Set<string>([
    ...IDENTITY_TYPES,
    ...ENVIRONMENTS,
    ...STRATEGIES,
    ...REQUEST_KINDS,
    ...HISTORY_KINDS,
    ...ALIAS_STATUSES,
    ...EXCLUSION_REASONS,
    ...IDENTITY_USES,
    ...SITUATIONS,
    ...WRITE_ACTIONS,
    ...BRANCHES,
    ...SKIP_REASONS,
    'alias_processing',
    'alias_undo',
    'search',
    'known',
    'anonymous',
    'any',
    'previous_mpid',
    'most_recently_seen',
    'not_found',
    'orphaned',
    'app',
    'device',
    'admin',
    'system',
    'mpid',
  ]),
];
/** Each dictionary word's whole token. */
const WORD_TOKENS = new Map(WORDS.map((word, i) => [word, `w${nat(i)}`]));

/** Encodes and decodes JSON-like values; holds the object shapes it has seen. */
export class JsonPacker {
  private readonly shapes: (readonly string[])[] = [];
  private readonly root: ShapeNode = newShapeNode();
  /** The tokens and the strings spelled out so far, reused by every `pack` (it does not nest). */
  private readonly out = new Scratch();
  private readonly strings = new Scratch();

  pack(value: unknown): string {
    const { out, strings } = this;
    out.clear();
    strings.clear();
    this.write(value, out, strings);
    return out.joined();
  }

  unpack(packed: string): unknown {
    const reader = { text: packed, at: 0, strings: [] as string[] };
    const value = this.read(reader);
    if (reader.at !== packed.length) throw new Error('JsonPacker: trailing characters');
    return value;
  }

  private write(value: unknown, out: Scratch, strings: Scratch): void {
    switch (typeof value) {
      case 'string':
        return writeString(value, out, strings);
      case 'number':
        return writeNumber(value, out);
      case 'boolean':
        out.add(value ? 't' : 'f');
        return;
      case 'undefined':
        out.add('u');
        return;
      case 'object':
        if (value === null) out.add('n');
        else if (Array.isArray(value)) {
          out.add(head('a', value.length));
          for (const item of value as readonly unknown[]) this.write(item, out, strings);
        } else {
          const prototype: unknown = Object.getPrototypeOf(value);
          if (prototype !== Object.prototype && prototype !== null) {
            // A Date, Map or class instance has no JSON shape of its own: refuse it rather than lose it.
            throw new TypeError('JsonPacker: can only store plain objects and arrays');
          }
          const record = value as Record<string, unknown>;
          out.add(head('o', this.shapeOf(record)));
          for (const key in record) if (hasOwn(record, key)) this.write(record[key], out, strings);
        }
        return;
      case 'bigint':
      case 'function':
      case 'symbol':
        throw new TypeError(`JsonPacker: cannot store a ${typeof value}`);
    }
  }

  /**
   * The id of the shape of `record` (its own keys, in order): a walk down a trie of keys, no key
   * array or key string built once the shape is known. Most trie nodes have one child, which is
   * compared by identity before the node's map is asked.
   */
  private shapeOf(record: Record<string, unknown>): number {
    let node = this.root;
    for (const key in record) {
      if (!hasOwn(record, key)) continue;
      node = node.onlyKey === key && node.onlyChild !== null ? node.onlyChild : childOf(node, key);
    }
    if (node.id < 0) {
      node.id = this.shapes.length;
      this.shapes.push(Object.keys(record));
    }
    return node.id;
  }

  private read(reader: Reader): unknown {
    const tag = reader.text.charAt(reader.at++);
    switch (tag) {
      case 'n':
        return null;
      case 't':
        return true;
      case 'f':
        return false;
      case 'u':
        return undefined;
      case 'i':
        return readNat(reader);
      case 'j':
        return -readNat(reader);
      case 'd':
        return Number(readChars(reader));
      case 's': {
        const text = readChars(reader);
        reader.strings.push(text);
        return text;
      }
      case 'r':
        return reader.strings[readNat(reader)];
      case 'w':
        return WORDS[readNat(reader)];
      case 'a': {
        const length = readNat(reader);
        const items: unknown[] = [];
        for (let i = 0; i < length; i++) items.push(this.read(reader));
        return items;
      }
      case 'o': {
        const keys = this.shapes[readNat(reader)];
        if (keys === undefined) throw new Error('JsonPacker: unknown shape');
        const record: Record<string, unknown> = {};
        for (const key of keys) {
          const item = this.read(reader);
          if (key === '__proto__')
            Object.defineProperty(record, key, {
              value: item,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          else record[key] = item;
        }
        return record;
      }
      default:
        throw new Error(`JsonPacker: bad tag at ${reader.at - 1}`);
    }
  }
}

/**
 * A list of strings reused from one `pack` to the next: `clear` keeps the storage (setting an
 * array's length to 0 would free it, and refilling it would reallocate it several times per pack).
 */
class Scratch {
  private readonly items: string[] = [];
  private length = 0;

  clear(): void {
    this.length = 0;
  }

  add(item: string): void {
    this.items[this.length++] = item;
  }

  indexOf(item: string): number {
    for (let i = 0; i < this.length; i++) if (this.items[i] === item) return i;
    return -1;
  }

  /** The items concatenated; the stale items past the end are dropped first. */
  joined(): string {
    this.items.length = this.length;
    return this.items.join('');
  }
}

interface ShapeNode {
  /** The shape whose keys are the path to this node, or -1 when no object had exactly these keys. */
  id: number;
  readonly next: Map<string, ShapeNode>;
  /** The key of the only child while there is one (then `onlyChild` is that child), else null. */
  onlyKey: string | null;
  onlyChild: ShapeNode | null;
}

function newShapeNode(): ShapeNode {
  return { id: -1, next: new Map(), onlyKey: null, onlyChild: null };
}

function childOf(node: ShapeNode, key: string): ShapeNode {
  let child = node.next.get(key);
  if (child === undefined) {
    child = newShapeNode();
    node.next.set(key, child);
    const only = node.next.size === 1;
    node.onlyKey = only ? key : null;
    node.onlyChild = only ? child : null;
  }
  return child;
}

const hasOwn = (record: object, key: string): boolean => Object.prototype.hasOwnProperty.call(record, key);

interface Reader {
  readonly text: string;
  at: number;
  readonly strings: string[];
}

function writeString(value: string, out: Scratch, strings: Scratch): void {
  const word = WORD_TOKENS.get(value);
  if (word !== undefined) {
    out.add(word);
    return;
  }
  const seen = strings.indexOf(value);
  if (seen >= 0) {
    out.add(head('r', seen));
    return;
  }
  strings.add(value);
  out.add(head('s', value.length));
  out.add(value);
}

function writeNumber(value: number, out: Scratch): void {
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
    out.add(value < 0 ? head('j', -value) : head('i', value));
    return;
  }
  const text = Object.is(value, -0) ? '-0' : String(value);
  out.add(head('d', text.length));
  out.add(text);
}

type HeadTag = 'a' | 'o' | 'r' | 's' | 'i' | 'j' | 'd';

/** Each tag followed by each nat below 128, made once: one list item instead of two. */
const SMALL_HEADS: Readonly<Record<HeadTag, readonly string[]>> = {
  a: SMALL_NATS.map((digit) => `a${digit}`),
  o: SMALL_NATS.map((digit) => `o${digit}`),
  r: SMALL_NATS.map((digit) => `r${digit}`),
  s: SMALL_NATS.map((digit) => `s${digit}`),
  i: SMALL_NATS.map((digit) => `i${digit}`),
  j: SMALL_NATS.map((digit) => `j${digit}`),
  d: SMALL_NATS.map((digit) => `d${digit}`),
};

/** A tag and its nat operand as one string (joining fewer, longer pieces is what makes `pack` cheap). */
function head(tag: HeadTag, value: number): string {
  return value < 0x80 ? (SMALL_HEADS[tag][value] as string) : tag + nat(value);
}

/** A non-negative safe integer in base 128, low digits first (0x80: more digits follow). */
function nat(value: number): string {
  if (value < 0x80) return SMALL_NATS[value] as string;
  let text = '';
  let rest = value;
  while (rest >= 0x80) {
    text += String.fromCharCode(0x80 | (rest % 0x80));
    rest = Math.floor(rest / 0x80);
  }
  return text + String.fromCharCode(rest);
}

function readNat(reader: Reader): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    const code = reader.text.charCodeAt(reader.at++);
    if (Number.isNaN(code)) throw new Error('JsonPacker: truncated number');
    value += (code & 0x7f) * scale;
    if (code < 0x80) return value;
    scale *= 0x80;
  }
}

function readChars(reader: Reader): string {
  const length = readNat(reader);
  const start = reader.at;
  reader.at += length;
  if (reader.at > reader.text.length) throw new Error('JsonPacker: truncated text');
  return reader.text.slice(start, reader.at);
}
