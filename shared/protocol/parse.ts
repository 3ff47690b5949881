/**
 * Turning `unknown` input into typed values at a boundary. Every schema in `shared/protocol`
 * reports failures as zod issues; a custom issue may carry `params.reason` with a precise
 * catalogue code. `parseWith` returns the first issue as an `ApiError` (the request is rejected
 * as a whole, so one clear message beats a list).
 */
import type { z } from 'zod';
import { err, ok, type Result } from '../util/result.ts';
import { apiError, ERROR_CATALOGUE, type ApiError, type ErrorCode } from './errors.ts';

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, value);
}

export function issuePath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

export function apiErrorFromIssues(issues: readonly z.core.$ZodIssue[], fallback: ErrorCode): ApiError {
  const issue = issues[0];
  if (issue === undefined) return apiError(fallback, 'invalid input');
  const params = issue.code === 'custom' ? (issue.params as Record<string, unknown> | undefined) : undefined;
  const code = isErrorCode(params?.['reason']) ? params['reason'] : fallback;
  const path = issuePath(issue.path);
  const message = path === '' ? issue.message : `${path}: ${issue.message}`;
  return apiError(code, message, path === '' ? undefined : path);
}

export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  fallback: ErrorCode = 'VALIDATION_ERROR',
): Result<z.output<S>, ApiError> {
  const parsed = schema.safeParse(input);
  return parsed.success ? ok(parsed.data) : err(apiErrorFromIssues(parsed.error.issues, fallback));
}
