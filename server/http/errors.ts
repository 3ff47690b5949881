/** Answering with the documented IDSync error body (spec §4.6, A15) and counting the error. */
import type { FastifyReply } from 'fastify';
import { errorBody, httpStatusOf, type ApiError } from '../../shared/protocol/errors.ts';
import type { Metrics } from './metrics.ts';

export function sendError(
  reply: FastifyReply,
  metrics: Metrics,
  error: ApiError,
  requestId: string | null = null,
) {
  metrics.errors.inc({ code: error.code });
  if (error.code === 'UNAUTHORIZED') reply.header('www-authenticate', 'Basic realm="idsync"');
  return reply.code(httpStatusOf(error.code)).type('application/json').send(errorBody(error, requestId));
}
