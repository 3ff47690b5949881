/**
 * Trace retention (SPEC LS-10): a stored request keeps its explain trace for
 * `--trace-retention-days`; after that the trace is dropped and the request keeps what
 * idempotency needs (fingerprint, response), like a request that changed nothing (LS-1). Its
 * history entries stay. Expiry runs at start and then hourly, in batches of `BATCH` rows per
 * transaction so it never holds the write lock for long.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../../shared/resolver/context.ts';
import { serial } from '../../shared/util/serial.ts';
import type { SqlIdentityStore } from './sql-identity-store.ts';

const DAY_MS = 86_400_000;
const BATCH = 1_000;
const EVERY_MS = 3_600_000;

/** Drops the traces of requests answered before `before`, `batch` rows per transaction; how many lost theirs. */
export async function expireTraces(store: SqlIdentityStore, before: number, batch = BATCH): Promise<number> {
  let expired = 0;
  for (;;) {
    const changed = await store.expireTraces(before, batch);
    expired += changed;
    if (changed < batch) return expired;
  }
}

export class TraceRetention {
  private timer: NodeJS.Timeout | null = null;
  private readonly queue = serial();

  constructor(
    private readonly store: SqlIdentityStore,
    private readonly days: number,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Expires now and then every hour; nothing with a retention of 0 days (traces kept). */
  start(): void {
    if (this.days === 0) return;
    void this.expireNow();
    this.timer = setInterval(() => void this.expireNow(), EVERY_MS);
    this.timer.unref();
  }

  /** One expiry pass after any running one; failures are logged and retried on the next pass. */
  expireNow(): Promise<void> {
    if (this.days === 0) return Promise.resolve();
    return this.queue(async () => {
      try {
        const expired = await expireTraces(this.store, this.clock.now() - this.days * DAY_MS);
        if (expired > 0)
          this.log.info({ expired, days: this.days }, 'explain traces past their retention dropped');
      } catch (error) {
        this.log.error({ err: error }, 'dropping expired explain traces failed; it will be retried');
      }
    });
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    await this.queue.idle();
  }
}
