/**
 * How programs report: a success value per request kind, or a `ResolutionFailure` carrying the
 * catalogue error and, where resolution got far enough to have one, the explain trace.
 */
import type { ApiError } from '../protocol/errors.ts';
import { err, type Err } from '../util/result.ts';
import type { ExplainTrace } from './trace.ts';

export interface ResolutionFailure {
  readonly error: ApiError;
  readonly requestId: string | null;
  readonly trace: ExplainTrace | null;
}

export function failure(
  error: ApiError,
  requestId: string | null = null,
  trace: ExplainTrace | null = null,
): Err<ResolutionFailure> {
  return err({ error, requestId, trace });
}
