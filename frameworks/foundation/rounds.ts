/**
 * A leader's work, one piece at a time: changes asked through the API and
 * scheduling rounds run in the order they were asked, never two at once, so
 * two can never launch the same instance. Round triggers coalesce: status
 * updates come in bursts, each in its own callback, so a round waits for the
 * end of the burst (setImmediate), and every trigger until it starts joins
 * it, with its items (offers).
 */
export class Rounds<T> {
  #queue: Promise<unknown> = Promise.resolve();
  /** Items of a round asked for but not started. */
  #pending?: T[];

  /** `round` runs one round with the items gathered; `failed` hears of a round that threw (e.g. to decline its offers). */
  constructor(
    private readonly round: (items: T[]) => Promise<void>,
    private readonly failed: (err: unknown, items: T[]) => void,
  ) {}

  /** Runs `fn` after every round and change asked for before it. */
  serial<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Asks for a round with `items`; it joins the round asked for and not started yet, if any. */
  trigger(items: readonly T[]): void {
    if (this.#pending) {
      this.#pending.push(...items);
      return;
    }
    this.#pending = [...items];
    setImmediate(() => void this.serial(async () => {
      const batch = this.#pending ?? [];
      this.#pending = undefined;
      try {
        await this.round(batch);
      } catch (err) {
        this.failed(err, batch);
      }
    }));
  }
}
