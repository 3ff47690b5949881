/**
 * The request limits of the IDSync and device sync APIs (SPEC HL-1..HL-5), all counted in one
 * place around authentication:
 * - before it, an address that failed authentication too often is refused (HL-5), so brute force
 *   and forged signatures are slowed down where they come from;
 * - a failed authentication spends a token of its address, never of the key it named (HL-1);
 * - after it, the authenticated principal (an input key, or a device) spends a token of its own
 *   budget, shared by every route it calls (HL-2, HL-3);
 * - device registrations have a budget per input key (HL-4).
 * A limit of 0 switches that limit off. All state is in memory, per process.
 */
import type { ApiError } from '../../shared/protocol/errors.ts';
import type { Clock } from '../../shared/resolver/context.ts';
import { err, ok, type Result } from '../../shared/util/result.ts';
import { rateLimited, type RateLimitedError } from './errors.ts';
import { TokenBuckets } from './token-buckets.ts';

export interface LimitOptions {
  /** Requests per second per input key or device (HL-2, HL-3). */
  readonly rateLimitPerSecond: number;
  /** Failed authentications per minute per client address (HL-5). */
  readonly authFailureLimit: number;
  /** Device registrations per minute per input key (HL-4). */
  readonly registrationLimit: number;
}

/** Who spends a request: an input key or a device. */
export type BudgetOwner = { readonly input: string } | { readonly device: string };

const MINUTE_MS = 60_000;

const bucketsFor = (limit: number, windowMs: number) =>
  limit > 0 ? new TokenBuckets(limit, windowMs) : null;

export class RequestLimits {
  private readonly principals: TokenBuckets | null;
  private readonly failures: TokenBuckets | null;
  private readonly registrations: TokenBuckets | null;

  constructor(
    private readonly options: LimitOptions,
    private readonly clock: Clock,
  ) {
    this.principals = bucketsFor(options.rateLimitPerSecond, 1000);
    this.failures = bucketsFor(options.authFailureLimit, MINUTE_MS);
    this.registrations = bucketsFor(options.registrationLimit, MINUTE_MS);
  }

  /**
   * Runs `attempt` (an authentication) for a request from `address` under the limits: refused at
   * once while the address is out of failure budget, counted against the address when it fails,
   * and against the input or device it authenticated when it succeeds.
   */
  async authenticated<T>(
    address: string,
    attempt: () => Promise<Result<T, ApiError>>,
    ownerOf: (value: T) => BudgetOwner,
  ): Promise<Result<T, ApiError | RateLimitedError>> {
    const blockedSec = this.failures?.waitSec(address, this.clock.now()) ?? 0;
    if (blockedSec > 0)
      return err(rateLimited('too many failed authentications from this address', blockedSec));
    const outcome = await attempt();
    if (!outcome.ok) {
      this.failures?.take(address, this.clock.now());
      return outcome;
    }
    const owner = ownerOf(outcome.value);
    const [kind, id] = 'input' in owner ? ['API key', owner.input] : ['device', owner.device];
    const taken = this.principals?.take(`${kind}:${id}`, this.clock.now());
    if (taken !== undefined && !taken.granted)
      return err(
        rateLimited(
          `more than ${this.options.rateLimitPerSecond} requests per second for this ${kind}`,
          taken.retryAfterSec,
        ),
      );
    return outcome;
  }

  /** Spends one device registration of input `apiKey` (HL-4). */
  registration(apiKey: string): Result<void, RateLimitedError> {
    const taken = this.registrations?.take(apiKey, this.clock.now());
    if (taken !== undefined && !taken.granted)
      return err(
        rateLimited(
          `more than ${this.options.registrationLimit} device registrations per minute for this API key`,
          taken.retryAfterSec,
        ),
      );
    return ok(undefined);
  }
}
