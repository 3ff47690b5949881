/**
 * Background alias processing (D6). Accepted aliases are due after the workspace's processing
 * delay; the worker drains due aliases when kicked (right after an alias is accepted) and on a
 * timer for delayed ones. On PostgreSQL several servers can run workers: due aliases are claimed
 * with FOR UPDATE SKIP LOCKED.
 */
import type { FastifyBaseLogger } from 'fastify';
import { processNextAliasProgram } from '../shared/resolver/alias.ts';
import { resolveOptions, type Clock } from '../shared/resolver/context.ts';
import type { RandomSource } from '../shared/util/random.ts';
import { serial } from '../shared/util/serial.ts';
import type { SqlIdentityStore } from './db/sql-identity-store.ts';
import type { WorkspaceStore } from './db/workspace-store.ts';

const SYSTEM = { kind: 'system', id: 'alias-worker' } as const;

export class AliasWorker {
  private timer: NodeJS.Timeout | null = null;
  /** Drains run one at a time, in the order asked for. */
  private readonly queue = serial();
  private stopped = false;

  constructor(
    private readonly store: SqlIdentityStore,
    private readonly workspaces: WorkspaceStore,
    private readonly clock: Clock,
    private readonly random: RandomSource,
    private readonly log: FastifyBaseLogger,
  ) {}

  start(pollMs: number): void {
    this.timer = setInterval(() => void this.drainAll(), pollMs);
    this.timer.unref();
  }

  /** Processes what is due in one workspace now, after anything already running. */
  kick(workspaceId: string): Promise<void> {
    return this.enqueue(() => this.drain(workspaceId));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.queue.idle();
  }

  private drainAll(): Promise<void> {
    return this.enqueue(async () => {
      for (const workspace of await this.workspaces.list()) await this.drain(workspace.id);
    });
  }

  /** Queues a drain; a failed one is logged (the next kick or tick retries), never rethrown. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    return this.queue(async () => {
      if (this.stopped) return;
      try {
        await task();
      } catch (error) {
        this.log.error({ err: error }, 'alias processing failed; it will be retried');
      }
    });
  }

  private async drain(workspaceId: string): Promise<void> {
    while (!this.stopped) {
      const processed = await this.store.runProgram(workspaceId, (config) =>
        processNextAliasProgram(
          resolveOptions({ config, random: this.random, now: this.clock.now(), actor: SYSTEM }),
        ),
      );
      if (processed === null) return;
      this.log.info(
        { alias: processed.alias.id, status: processed.alias.status, reason: processed.alias.statusReason },
        'alias processed',
      );
    }
  }
}
