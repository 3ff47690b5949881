/** Answering with the documented IDSync error body (spec §4.6, A15) and counting the error. */
import type { FastifyReply } from 'fastify';
import { errorBody, httpStatusOf, type ApiError } from '../../shared/protocol/errors.ts';
import type { Metrics } from './metrics.ts';

/** A `RATE_LIMITED` error that knows when to come back; answered with `Retry-After` (HL-1). */
export interface RateLimitedError extends ApiError {
  readonly code: 'RATE_LIMITED';
  readonly retryAfterSec: number;
}

export function rateLimited(message: string, retryAfterSec: number): RateLimitedError {
  return { code: 'RATE_LIMITED', message: `${message}; retry in ${retryAfterSec} s`, retryAfterSec };
}

export function sendError(
  reply: FastifyReply,
  metrics: Metrics,
  error: ApiError | RateLimitedError,
  requestId: string | null = null,
) {
  metrics.errors.inc({ code: error.code });
  if (error.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Basic realm="idsync"');
  if ('retryAfterSec' in error) reply.header('retry-after', String(error.retryAfterSec));
  return reply.code(httpStatusOf(error.code)).type('application/json').send(errorBody(error, requestId));
}
