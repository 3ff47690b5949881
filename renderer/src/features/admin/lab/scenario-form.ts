/**
 * The Lab's form editor works on the scenario file's JSON text, the one source of truth (SPEC LB-10):
 * it reads the text as a plain JSON object, changes one field, and writes the text back, so switching
 * between the form and the JSON editor loses nothing the form does not show. Problems come from the
 * scenario schema, keyed by their path (`steps[2].identities`), so each is shown beside its field.
 */
import { issuePath } from '../../../../../shared/protocol/parse.ts';
import { ScenarioSchema } from '../../../../../shared/protocol/scenario.ts';

export type JsonObject = { readonly [key: string]: unknown };

/** The step kinds the form adds and edits: every kind of the scenario schema (SPEC LB-16). */
export const ADDABLE_KINDS = [
  'identify',
  'login',
  'logout',
  'modify',
  'track',
  'attribute',
  'alias',
  'sync',
  'offline',
  'online',
  'restart',
  'server',
  'advance',
  'expect',
] as const;
export type AddableKind = (typeof ADDABLE_KINDS)[number];

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The file as a JSON object, or null when the text is not one (the form then defers to the JSON editor). */
export function readDraft(text: string): JsonObject | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

export function writeDraft(draft: JsonObject): string {
  return `${JSON.stringify(draft, null, 2)}\n`;
}

export interface Problem {
  /** Where in the file, as `steps[2].identities.email` ('' for the file as a whole). */
  readonly path: string;
  readonly message: string;
}

type Issue = {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code: string;
  readonly errors?: readonly (readonly Issue[])[];
};

/**
 * A step that fails the step union fails every branch; the branch whose `do` matches the step's kind
 * holds the problems that matter, so those are kept, at their path inside the step. A step whose kind
 * no branch takes is one problem at the step.
 */
function flatten(issue: Issue, prefix: readonly PropertyKey[]): Problem[] {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors !== undefined) {
    const matching = issue.errors.filter(
      (branch) => !branch.some((i) => i.path.length === 1 && i.path[0] === 'do'),
    );
    if (matching.length === 1) return (matching[0] ?? []).flatMap((i) => flatten(i, path));
    return [{ path: issuePath(path), message: 'not a known step kind, or fields of another kind' }];
  }
  return [{ path: issuePath(path), message: issue.message }];
}

/** Problems of the file against the scenario schema, each at its path. */
export function scenarioProblems(value: unknown): Problem[] {
  const parsed = ScenarioSchema.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.flatMap((issue) => flatten(issue as Issue, []));
}

/** Problems of the file grouped by path (see problemsByPath). */
export type Problems = ReadonlyMap<string, readonly string[]>;

/** The same problems grouped by path. */
export function problemsByPath(draft: JsonObject): Problems {
  const problems = new Map<string, string[]>();
  for (const { path, message } of scenarioProblems(draft))
    problems.set(path, [...(problems.get(path) ?? []), message]);
  return problems;
}

/** A field's error text: the problems at exactly its path, or undefined (Mantine shows none). */
export function errorAt(problems: Problems, path: string): string | undefined {
  const found = problems.get(path);
  return found === undefined ? undefined : found.join('; ');
}

/** Every problem at `path` or inside it, as one line for the field that edits that part; or none. */
export function errorUnder(problems: Problems, path: string): string | undefined {
  return problemsUnder(problems, path).join('; ') || undefined;
}

/** Whether the problem path `p` is `path` or inside it. */
export function isUnder(p: string, path: string): boolean {
  return p === path || p.startsWith(`${path}.`) || p.startsWith(`${path}[`);
}

/** Problems at `path` or below it (the strategy field shows every problem of the config). */
function problemsUnder(problems: Problems, path: string): string[] {
  return [...problems].filter(([p]) => isUnder(p, path)).flatMap(([, messages]) => messages);
}

/**
 * The draft with the value at `path` replaced (objects and arrays copied along the way). `undefined`
 * at an object key removes that field from the written text (JSON has no undefined), which is how
 * the form clears an optional check.
 */
export function setAt(value: unknown, path: readonly (string | number)[], next: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return next;
  if (typeof head === 'number') {
    const list = Array.isArray(value) ? [...(value as unknown[])] : [];
    list[head] = setAt(list[head], rest, next);
    return list;
  }
  const object = isObject(value) ? value : {};
  return { ...object, [head]: setAt(object[head], rest, next) };
}

export function stepsOf(draft: JsonObject): readonly unknown[] {
  return Array.isArray(draft['steps']) ? (draft['steps'] as unknown[]) : [];
}

export function deviceNames(draft: JsonObject): string[] {
  return isObject(draft['devices']) ? Object.keys(draft['devices']) : [];
}

function withSteps(draft: JsonObject, steps: readonly unknown[]): JsonObject {
  return { ...draft, steps };
}

export function newStep(kind: AddableKind, device: string): JsonObject {
  switch (kind) {
    case 'identify':
    case 'login':
    case 'logout':
      return { device, do: kind, identities: kind === 'logout' ? {} : { customerid: '' } };
    case 'track':
      return { device, do: 'track', event: '' };
    case 'attribute':
      return { device, do: 'attribute', key: '', value: '' };
    case 'alias':
      return { device, do: 'alias', source: '', destination: '' };
    case 'sync':
      return { do: 'sync' };
    case 'offline':
    case 'online':
    case 'restart':
      return { device, do: kind };
    case 'server':
      return { do: 'server', action: 'restart' };
    case 'advance':
      return { do: 'advance', ms: 60_000 };
    case 'modify':
      return { device, do: 'modify', changes: [{ type: 'email', old: null, new: null }] };
    case 'expect':
      return { do: 'expect', invariants: true };
  }
}

export function addStep(draft: JsonObject, kind: AddableKind, device: string): JsonObject {
  return withSteps(draft, [...stepsOf(draft), newStep(kind, device)]);
}

export function removeStep(draft: JsonObject, index: number): JsonObject {
  return withSteps(
    draft,
    stepsOf(draft).filter((_, i) => i !== index),
  );
}

/** Moves step `index` by `delta` places; a move past either end changes nothing. */
export function moveStep(draft: JsonObject, index: number, delta: -1 | 1): JsonObject {
  const steps = [...stepsOf(draft)];
  const target = index + delta;
  if (target < 0 || target >= steps.length) return draft;
  [steps[index], steps[target]] = [steps[target], steps[index]];
  return withSteps(draft, steps);
}

/** Identity rows of an identity step, in file order (a null value is written as empty). */
export function identityRows(step: JsonObject): [string, string][] {
  const identities = isObject(step['identities']) ? step['identities'] : {};
  return Object.entries(identities).map(([type, value]) => [type, typeof value === 'string' ? value : '']);
}

export function rowsToIdentities(rows: readonly (readonly [string, string])[]): JsonObject {
  return Object.fromEntries(rows);
}

/** A type name not used yet, so a new identity row never overwrites another. */
export function nextType(used: readonly string[]): string {
  for (const type of ['customerid', 'email', 'mobile_number']) if (!used.includes(type)) return type;
  let i = 2;
  while (used.includes(`other_id_${i}`)) i += 1;
  return `other_id_${i}`;
}

/** Writes `value` at `path` inside the part of the file a component edits. */
export type SetField = (path: readonly (string | number)[], value: unknown) => void;

/** Problem paths a step's fields show beside them: exactly (`exact`) or with all below (`under`). */
export interface ShownPaths {
  readonly exact: readonly string[];
  readonly under: readonly string[];
}

/** A list of strings written as `a, b` (the form's text for labels and event names). */
export function listText(value: unknown): string {
  return Array.isArray(value) ? value.map((item) => word(item)).join(', ') : '';
}

/** The list typed as `a, b`; empty text is no list (the optional check is removed). */
export function readList(text: string): string[] | undefined {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return text.trim() === '' ? undefined : items;
}

/**
 * A whole number typed in a field: a number when it reads as one, nothing when the field is empty
 * (the optional check is removed), and the text itself otherwise so the schema's problem shows.
 */
export function readInteger(text: string): number | string | undefined {
  if (text.trim() === '') return undefined;
  return /^\d+$/.test(text) ? Number(text) : text;
}

/** A string or number field as written, or empty. */
export function word(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/** What a step does, in words (the step's card heading). */
export function stepInWords(step: unknown): string {
  if (!isObject(step)) return 'not a step';
  const kind = typeof step['do'] === 'string' ? step['do'] : 'unknown step';
  const on = typeof step['device'] === 'string' ? ` on ${step['device']}` : '';
  switch (kind) {
    case 'identify':
    case 'login':
    case 'logout': {
      const rows = identityRows(step);
      const what =
        rows.length === 0 ? 'no identities' : rows.map(([t, v]) => `${t} ${v || '(empty)'}`).join(', ');
      return `${kind}${on} with ${what}`;
    }
    case 'track':
      return `track event “${word(step['event'])}”${on}`;
    case 'attribute':
      return `set attribute “${word(step['key'])}”${on}`;
    case 'alias':
      return `alias ${word(step['source']) || '(source)'} into ${word(step['destination']) || '(destination)'}${on}`;
    case 'sync':
      return `sync${on === '' ? ' every device' : on}`;
    case 'server':
      return `server ${word(step['action'])}`;
    case 'advance':
      return `advance the clock ${word(step['ms'])} ms`;
    case 'modify': {
      const changes = Array.isArray(step['changes']) ? step['changes'] : [];
      const what = changes
        .filter(isObject)
        .map((c) => `${word(c['type'])} ${word(c['old']) || '(none)'} → ${word(c['new']) || '(none)'}`)
        .join(', ');
      return `modify${on}: ${what || 'no changes'}`;
    }
    case 'expect':
      return 'check expectations';
    default:
      return `${kind}${on}`;
  }
}
