/**
 * Calls made together (a group commit's pattern, for PostgreSQL's touch and snapshot routines):
 * an item submitted while fewer than `inFlight` calls run goes out at once; items submitted while
 * that many run wait, and go out together (at most `maxBatch` per call) as soon as one returns.
 * `call` answers one result per item, in the items' order; a call that fails fails each of its
 * items with its error.
 */
export class GroupCall<T, R> {
  private waiting: {
    readonly item: T;
    readonly resolve: (r: R) => void;
    readonly reject: (e: unknown) => void;
  }[] = [];
  private running = 0;

  constructor(
    private readonly inFlight: number,
    private readonly maxBatch: number,
    private readonly call: (items: readonly T[]) => Promise<readonly R[]>,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.send();
    });
  }

  private send(): void {
    while (this.running < this.inFlight && this.waiting.length > 0) {
      this.running++;
      const batch = this.waiting.splice(0, this.maxBatch);
      void this.call(batch.map((w) => w.item))
        .then(
          (results) => batch.forEach((w, i) => w.resolve(results[i] as R)),
          (error: unknown) => batch.forEach((w) => w.reject(error)),
        )
        .finally(() => {
          this.running--;
          this.send();
        });
    }
  }
}
