/**
 * The leader an agent lost, remembered for about a leader lease: standbys
 * keep naming a dead leader until its lease lapses, so hints naming it are
 * not followed, and registrations name it (`lost_leader`) so that a
 * standby holds them until the new leader serves. Shared by the real agent
 * and the simulated ones.
 */

/** About a leader lease (2 s by default) and etcd's expiry tick, after which standbys name the successor. */
export const LOST_LEADER_MS = 3000;

export class LostLeader {
  private lost?: { master: string; until: number };

  /**
   * A connection to `master` ended with `why`: if it had registered there,
   * or reached it by a standby's hint, and was not merely refused by a
   * standby, that master is taken for a dead leader.
   */
  connectionLost(master: string, wasRegisteredOrHinted: boolean, why: string): void {
    if (wasRegisteredOrHinted && !/not the leader/i.test(why)) this.lost = { master, until: Date.now() + LOST_LEADER_MS };
  }

  /** The lost leader's address while it is taken for dead, else ''. */
  current(): string {
    return this.lost && Date.now() < this.lost.until ? this.lost.master : '';
  }

  /** Whether `address` is the leader taken for dead. */
  is(address: string | undefined): boolean {
    return address !== undefined && address === this.current();
  }
}
