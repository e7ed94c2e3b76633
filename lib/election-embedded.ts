/**
 * The embedded election, for a master that runs alone: the first candidate
 * leads at once. Candidates that campaign while one leads (possible only
 * within this process) wait their turn in campaign order. There is nothing
 * to fence against, so the fence is empty.
 */
import { ElectionClosedError, type Election, type Leadership } from './election';

interface Candidate {
  value: string;
  resolve(l: Leadership): void;
  reject(err: Error): void;
}

export class EmbeddedElection implements Election {
  private readonly waiting: Candidate[] = [];
  private current: { value: string; end(reason: string): void } | undefined;
  private readonly observers = new Set<(leader: string | undefined) => void>();
  private closed = false;

  campaign(value: string): Promise<Leadership> {
    if (this.closed) return Promise.reject(new ElectionClosedError());
    return new Promise<Leadership>((resolve, reject) => {
      this.waiting.push({ value, resolve, reject });
      this.promote();
    });
  }

  async leader(): Promise<string | undefined> {
    return this.current?.value;
  }

  async candidates(): Promise<string[]> {
    return [...(this.current ? [this.current.value] : []), ...this.waiting.map((c) => c.value)];
  }

  async observe(cb: (leader: string | undefined) => void): Promise<{ close(): Promise<void> }> {
    if (this.closed) throw new ElectionClosedError();
    this.observers.add(cb);
    cb(this.current?.value);
    return {
      close: async () => {
        this.observers.delete(cb);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.waiting.splice(0)) c.reject(new ElectionClosedError());
    this.current?.end('the election was closed');
    this.observers.clear();
  }

  /** Hands the leadership to the first waiting candidate, if nobody leads. */
  private promote(): void {
    if (this.current) return;
    const next = this.waiting.shift();
    if (next) {
      let resolveLost!: (reason: string) => void;
      const lost = new Promise<string>((r) => (resolveLost = r));
      const mine = {
        value: next.value,
        end: (reason: string) => {
          if (this.current !== mine) return;
          this.current = undefined;
          resolveLost(reason);
          if (!this.closed) this.promote(); // reports the new leader, or none
        },
      };
      this.current = mine;
      next.resolve({ fence: [], lost, resign: async () => mine.end('resigned') });
    }
    this.notify();
  }

  private notify(): void {
    for (const cb of this.observers) cb(this.current?.value);
  }
}
