/**
 * Bounds how much launch work the agent does at once, so that a burst (a
 * thousand tasks in one run_tasks) never holds its event loop past a ping.
 *
 * Measured before this existed: 1000 `true` tasks in one message kept the
 * agent's event loop busy for up to 2 s in one go (every sandbox mkdir
 * completed in the same poll phase, then a thousand synchronous spawns
 * back to back), and the master, with a 1.5 s ping timeout, declared the
 * agent unreachable and another framework's service LOST. With slots, at
 * most `size` launches are between their sandbox and their spawn at a time,
 * and each slot is granted in a macrotask of its own (setImmediate), so
 * pings, acknowledgements and status updates get the loop between grants.
 */
export const DEFAULT_LAUNCH_SLOTS = 8;

export class LaunchSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private scheduled = false;

  constructor(private readonly size = DEFAULT_LAUNCH_SLOTS) {
    if (!(size >= 1)) throw new Error(`launch slots must be at least 1, not ${size}`);
  }

  /** Launches holding a slot now. */
  get busy(): number { return this.active; }
  /** Launches waiting for a slot. */
  get queued(): number { return this.waiting.length; }

  /**
   * Resolves, in FIFO order and never synchronously, once a slot is free;
   * the caller must call the returned release exactly once (further calls
   * are ignored).
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push(() => {
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          this.schedule();
        });
      });
      this.schedule();
    });
  }

  /** One grant per macrotask: I/O and timers run between two launches' synchronous parts. */
  private schedule(): void {
    if (this.scheduled || !this.waiting.length || this.active >= this.size) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.active >= this.size) return;
      const next = this.waiting.shift();
      if (!next) return;
      this.active++;
      next();
      this.schedule();
    });
  }
}
