import type { Clock } from '../../shared/resolver/context.ts';

/** A clock the test moves by hand; every `now()` also advances it by `step` ms so times are distinct. */
export class ManualClock implements Clock {
  constructor(
    private time = Date.UTC(2026, 10, 1),
    private readonly step = 1000,
  ) {}

  now(): number {
    const t = this.time;
    this.time += this.step;
    return t;
  }

  advance(ms: number): void {
    this.time += ms;
  }

  peek(): number {
    return this.time;
  }
}
