/**
 * The one dispatcher from a request kind to its resolver program (SPEC SS-1). The server's device
 * replay, the what-if replay, the device engine, the simulator's serial replay and the `Resolver`
 * all go through it, so a request kind runs the same program everywhere.
 *
 * A kind known at compile time gives its own outcome type (`OutcomeOf[K]`); a kind that arrives as
 * data is parsed first, and an unknown one gives a program that fails with `VALIDATION_ERROR`
 * (SS-2): a value, never a throw. Bodies stay `unknown` here; each program parses its own.
 */
import { z } from 'zod';
import { parseWith } from '../protocol/parse.ts';
import type { ApiError } from '../protocol/errors.ts';
import { aliasProgram, type AliasOutcome } from './alias.ts';
import type { ResolveOptions } from './context.ts';
import { identityProgram, type IdentityOutcome } from './identify.ts';
import { modifyProgram, type ModifyOutcome } from './modify.ts';
import { failure } from './outcome.ts';
import { searchProgram, type SearchOutcome } from './search.ts';
import type { Program } from './store-port.ts';

export const PROGRAM_KINDS = ['identify', 'login', 'logout', 'modify', 'alias', 'search'] as const;
export const ProgramKindSchema = z.enum(PROGRAM_KINDS);
export type ProgramKind = z.infer<typeof ProgramKindSchema>;

/** What a program resolves: the body as sent and, for a modify, the profile it names (its path MPID). */
export interface ProgramRequest {
  readonly body: unknown;
  readonly target?: unknown;
}

export interface OutcomeOf {
  readonly identify: IdentityOutcome;
  readonly login: IdentityOutcome;
  readonly logout: IdentityOutcome;
  readonly modify: ModifyOutcome;
  readonly alias: AliasOutcome;
  readonly search: SearchOutcome;
}

export type ResolutionOutcome = OutcomeOf[ProgramKind];
export type ResolutionSuccess = Extract<ResolutionOutcome, { ok: true }>['value'];

const PROGRAMS: {
  readonly [K in ProgramKind]: (request: ProgramRequest, options: ResolveOptions) => Program<OutcomeOf[K]>;
} = {
  identify: (request, options) => identityProgram('identify', request.body, options),
  login: (request, options) => identityProgram('login', request.body, options),
  logout: (request, options) => identityProgram('logout', request.body, options),
  modify: (request, options) => modifyProgram(request.target, request.body, options),
  alias: (request, options) => aliasProgram(request.body, options),
  search: (request, options) => searchProgram(request.body, options),
};

// eslint-disable-next-line require-yield -- a program that fails before its first store call
function* rejected(error: ApiError): Program<ResolutionOutcome> {
  return failure(error);
}

export function programFor<K extends ProgramKind>(
  kind: K,
  request: ProgramRequest,
  options: ResolveOptions,
): Program<OutcomeOf[K]>;
export function programFor(
  kind: unknown,
  request: ProgramRequest,
  options: ResolveOptions,
): Program<ResolutionOutcome>;
export function programFor(
  kind: unknown,
  request: ProgramRequest,
  options: ResolveOptions,
): Program<ResolutionOutcome> {
  const parsed = parseWith(ProgramKindSchema, kind);
  return parsed.ok ? PROGRAMS[parsed.value](request, options) : rejected(parsed.error);
}

/** The response a success carries (an alias answers none). */
export function responseOf(success: ResolutionSuccess): unknown {
  return 'response' in success ? success.response : null;
}
