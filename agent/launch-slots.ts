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
 * so at most `size` spawns can fall in one turn of the loop,
 * and pings, acknowledgements and status updates get the loop between them.
 * Pacing only the spawns (at most N per turn, everything else at full
 * concurrency) was tried and is not enough: the thousand sandboxes, STARTING
 * updates and journal entries of a burst still held the loop past a 1 s
 * ping timeout (test/integration/agent-faults.test.ts): the agent's pings
 * share its stream with the updates, and queued behind a megabyte of them.
 * 256 in flight keeps a 1000-task burst inside a 1 s ping timeout (6 runs of
 * 6) and costs less than 64 did (launch-real: 220-230 tasks/s against
 * 200-217; 248-260 before launches were bounded and gated at all).
 */
export const DEFAULT_LAUNCH_SLOTS = 256;

export class LaunchSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly size = DEFAULT_LAUNCH_SLOTS) {
    if (!(size >= 1)) throw new Error(`launch slots must be at least 1, not ${size}`);
  }

  /** Launches holding a slot now. */
  get busy(): number { return this.active; }
  /** Launches waiting for a slot. */
  get queued(): number { return this.waiting.length; }

  /**
   * Resolves, in FIFO order, once a slot is free; the caller must call the
   * returned release exactly once (further calls are ignored). A slot freed
   * is handed to the next waiter at once: the bound is on how many launches
   * are in flight (so at most `size` spawns can pile up in one turn of the
   * event loop), not on their pace. Granting one slot per macrotask instead
   * sent every update on its own and cost the master and the framework
   * 1.4-2.5x the CPU per task (bench/launch-real.ts).
   */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = (): void => {
        this.active++;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.active--;
          this.waiting.shift()?.();
        });
      };
      if (this.active < this.size) grant();
      else this.waiting.push(grant);
    });
  }
}
