/**
 * The one leader-following policy of the agents, the SDK and the CLI, as
 * sequences of attempts, with a fixed random (jitter at 75 %) and a fake clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LeaderFollower, LOST_LEADER_MS, type Attempt, type FollowOptions } from '../../lib/leader-follower';

/** random 0.5: every delay d is jittered to d/2 + d/4 = 0.75 d. */
function follower(masters: string[], opts: FollowOptions = {}) {
  const clock = { now: 1_000_000 };
  const f = new LeaderFollower(masters, {
    backoff: { initialMs: 100, maxMs: 1000 }, random: () => 0.5, now: () => clock.now, ...opts,
  });
  return { f, clock };
}

const at = (address: string, delayMs: number, redirected = false): Attempt => ({ address, delayMs, redirected });

describe('LeaderFollower', () => {
  it('starts on the first address, at once', () => {
    const { f } = follower(['a:1', 'b:1']);
    assert.deepEqual(f.next(), at('a:1', 0));
  });

  it('follows a named leader at once, up to maxRedirects in a row, then with the backoff', () => {
    const { f } = follower(['a:1', 'b:1']);
    f.next();
    // Two confused masters naming each other.
    const seen: Attempt[] = [];
    for (const leader of ['x:1', 'y:1', 'x:1', 'y:1', 'x:1']) {
      f.failed({ notLeader: true, leader });
      seen.push(f.next());
    }
    assert.deepEqual(seen, [
      at('x:1', 0, true), at('y:1', 0, true), at('x:1', 0, true),
      at('y:1', 75, true), // past the cap of 3: 0.75 × 100
      at('x:1', 150, true), // and growing
    ]);
  });

  it('retries a standby that names no leader soon, on the same address, without growing the backoff', () => {
    const { f } = follower(['a:1', 'b:1']);
    f.next();
    const seen: Attempt[] = [];
    for (let i = 0; i < 4; i++) {
      f.failed({ notLeader: true });
      seen.push(f.next());
    }
    // standbyRetryMs 300, jittered to 225, every time.
    assert.deepEqual(seen, [at('a:1', 225), at('a:1', 225), at('a:1', 225), at('a:1', 225)]);
    f.failed();
    assert.deepEqual(f.next(), at('b:1', 75), 'a plain failure then starts the backoff from its first step');
  });

  it('moves to the next address after a plain failure, the delay doubling, jittered, up to the cap', () => {
    const { f } = follower(['a:1', 'b:1', 'c:1']);
    f.next();
    const seen: Attempt[] = [];
    for (let i = 0; i < 6; i++) {
      f.failed();
      seen.push(f.next());
    }
    assert.deepEqual(seen, [at('b:1', 75), at('c:1', 150), at('a:1', 300), at('b:1', 600), at('c:1', 750), at('a:1', 750)]);
  });

  it('jitters each delay into [50 %, 100 %] of its step', () => {
    const draws = [0, 0.999];
    const { f } = follower(['a:1'], { random: () => draws.shift()! });
    f.next();
    f.failed();
    assert.equal(f.next().delayMs, 50);
    f.failed();
    assert.equal(f.next().delayMs, 200);
  });

  it('takes a leader that dropped it for lost: not followed for LOST_LEADER_MS, named meanwhile, then followed again', () => {
    const { f, clock } = follower(['a:1', 'b:1']);
    f.next();
    f.succeeded();
    f.failed({ wasConnected: true }); // a:1, the leader, is gone
    assert.equal(f.lostLeader(), 'a:1');
    assert.deepEqual(f.next(), at('b:1', 75));
    // The standby still names the dead leader until its lease lapses.
    f.failed({ notLeader: true, leader: 'a:1' });
    assert.deepEqual(f.next(), at('b:1', 225), 'not followed: the standby is asked again soon');
    clock.now += LOST_LEADER_MS - 1;
    assert.equal(f.lostLeader(), 'a:1');
    clock.now += 1;
    assert.equal(f.lostLeader(), '');
    f.failed({ notLeader: true, leader: 'a:1' });
    assert.deepEqual(f.next(), at('a:1', 0, true), 'followed again once the window has passed');
  });

  it('takes a named leader that cannot be reached for lost, and goes back to the standby soon', () => {
    const { f } = follower(['a:1', 'b:1']);
    f.next();
    f.failed({ notLeader: true, leader: 'x:1' });
    assert.deepEqual(f.next(), at('x:1', 0, true));
    f.failed(); // connection refused at x:1
    assert.equal(f.lostLeader(), 'x:1');
    assert.deepEqual(f.next(), at('a:1', 225));
    f.failed({ notLeader: true, leader: 'x:1' });
    assert.deepEqual(f.next(), at('a:1', 225), 'its hints are not followed meanwhile');
  });

  it('does not take a leader that stepped down (it said NOT_LEADER) for lost', () => {
    const { f } = follower(['a:1', 'b:1']);
    f.next();
    f.succeeded();
    f.failed({ wasConnected: true, notLeader: true, leader: 'b:1' });
    assert.equal(f.lostLeader(), '');
    assert.deepEqual(f.next(), at('b:1', 0, true));
  });

  it('succeeded() resets the backoff and the redirect count', () => {
    const { f } = follower(['a:1', 'b:1']);
    f.next();
    for (let i = 0; i < 4; i++) {
      f.failed();
      f.next();
    }
    for (const leader of ['x:1', 'y:1', 'x:1']) {
      f.failed({ notLeader: true, leader });
      f.next();
    }
    f.succeeded();
    f.failed({ notLeader: true, leader: 'y:1' });
    assert.deepEqual(f.next(), at('y:1', 0, true), 'redirects counted afresh');
    f.succeeded();
    f.failed({ notLeader: true });
    f.next();
    f.failed();
    assert.equal(f.next().delayMs, 75, 'backoff from its first step');
  });
});
