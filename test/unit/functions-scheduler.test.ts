/**
 * The functions scheduler leading over an in-memory store and a fake
 * framework whose "agent" runs each launched task as a real worker runtime
 * process (its PORT0 and MEZZ_FN_* from the TaskInfo): what the store holds
 * at each step, since that is what a next leader starts from, across
 * leaderships of the same process. (Whole processes: test/integration/functions*.)
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { after, describe, test } from 'node:test';
import type { LeaderContext } from '../../frameworks/foundation';
import type { Activation } from '../../frameworks/functions/activation';
import { parseFunction } from '../../frameworks/functions/function-spec';
import { RUNTIME_PATH, FunctionsScheduler } from '../../frameworks/functions/scheduler';
import type { TaskInfo } from '../../lib/proto';
import { make, toProto } from '../../lib/resources';
import { memoryState } from './memory-state';

const say = (l: string) => (...a: unknown[]) => { if (process.env.DEBUG_FN) console.error(l, ...a); };
const quiet = { debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') };
const children = new Set<ChildProcess>();
after(() => {
  for (const c of children) {
    try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ }
  }
});

/** A framework whose one agent runs each task as a real worker runtime on 127.0.0.1. */
class FakeFramework extends EventEmitter {
  readonly launched: TaskInfo[] = [];
  private readonly procs = new Map<string, ChildProcess>();
  /** The port each live task was given: not offered again until it ends, as an agent would. */
  private readonly ports = new Map<string, number>();
  private seq = 0;
  launch(_offers: string[], tasks: TaskInfo[]) {
    for (const t of tasks) {
      const taskId = t.taskId!;
      this.launched.push(t);
      const env = (t.command?.environment ?? {}) as Record<string, string>;
      const child = spawn(process.execPath, [RUNTIME_PATH], { env: { ...process.env, ...env }, stdio: 'ignore', detached: true });
      children.add(child);
      this.procs.set(taskId, child);
      this.ports.set(taskId, Number(env.PORT0));
      child.on('exit', () => {
        this.procs.delete(taskId);
        this.ports.delete(taskId);
        this.emit('update', { taskId, state: 'TASK_KILLED', agentId: 'a0', uuid: '', message: 'ended' });
      });
      this.emit('update', { taskId, state: 'TASK_RUNNING', agentId: 'a0', uuid: '', message: '' });
    }
    return true;
  }
  decline() {}
  kill(taskId: string) { this.procs.get(taskId)?.kill('SIGKILL'); }
  acknowledge() {}
  revive() { setImmediate(() => this.offer()); }
  suppress() {}
  /** Implicit reconciliation, as the master answers it: every live task of the framework. */
  reconcile() {
    for (const taskId of this.procs.keys()) this.emit('update', { taskId, state: 'TASK_RUNNING', agentId: 'a0', uuid: '', message: '' });
  }
  offer() {
    const used = new Set(this.ports.values());
    const free = Array.from({ length: 100 }, (_, i) => 30500 + i).filter((p) => !used.has(p)).map((p) => ({ begin: p, end: p }));
    this.emit('offers', [{ id: `o${++this.seq}`, agentId: 'a0', hostname: '127.0.0.1', allocationRole: '*', attributes: [],
      resources: toProto(make({ cpus: 8, mem: 8192, ports: free })) }]);
  }
  live(): number {
    return this.procs.size;
  }
}

async function until<T>(what: string, f: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function spec(name: string, code: string) {
  const r = parseFunction({ exec: { kind: 'nodejs:20', code } }, { name, namespace: 'guest' });
  assert.ok(r.spec, JSON.stringify(r.errors));
  return r.spec;
}

const ECHO = 'function main(p) { return { n: p.n ?? null } }';
const acts = (kv: Map<string, unknown>) => [...kv].filter(([k]) => k.startsWith('act/')).map(([, v]) => v as Activation);
const pending = (kv: Map<string, unknown>) => [...kv.keys()].filter((k) => k.startsWith('pending/'));

describe('functions scheduler over a fake framework and real workers', () => {
  const framework = new FakeFramework();
  const kv = new Map<string, unknown>();
  const scheduler = new FunctionsScheduler({ log: quiet as never, stems: 0, activationsKept: 3 });
  let leadership = new AbortController();
  const lead = () => scheduler.lead({ framework, state: memoryState(kv), failover: true, signal: leadership.signal } as unknown as LeaderContext);

  after(() => leadership.abort());

  test('an async call is stored before its answer and replaced by its activation once it ran; blocking records are stored too, the newest 3 kept', async () => {
    await lead();
    await scheduler.putFunction(spec('echo', ECHO), false);
    const accepted = await scheduler.invoke({ namespace: 'guest', name: 'echo', params: { n: 0 }, subject: 'guest' }, { blocking: false, waitMs: 0 });
    assert.ok('pending' in accepted);
    assert.deepEqual(pending(kv), [`pending/${accepted.activationId}`], 'stored before the answer');
    await until('its activation stored and the pending key gone', () => kv.has(`act/${accepted.activationId}`) && pending(kv).length === 0);
    for (let n = 1; n <= 5; n++) {
      const r = await scheduler.invoke({ namespace: 'guest', name: 'echo', params: { n }, subject: 'guest' }, { blocking: true, waitMs: 10_000 });
      assert.ok('activation' in r && r.activation.response.success, JSON.stringify(r));
    }
    // Several puts and evictions in one batch: the store's transactions take each key once, and end with the newest 3.
    await until('the newest three activations in the store', () => {
      const ns = acts(kv).map((a) => (a.response.result as { n: number }).n).sort();
      return ns.join() === '3,4,5';
    });
    assert.deepEqual(scheduler.activations('guest', { skip: 0, limit: 10 }).map((a) => (a.response.result as { n: number }).n), [5, 4, 3], 'the same three in memory, newest first');
  });

  test('a second leadership of the same process loads what the first stored, and stores its own blocking records', async () => {
    // A blocking call's record is stored within 200 ms: the leadership ends first (that one record is lost, as documented).
    const last = await scheduler.invoke({ namespace: 'guest', name: 'echo', params: { n: 99 }, subject: 'guest' }, { blocking: true, waitMs: 10_000 });
    assert.ok('activation' in last);
    leadership.abort();
    framework.removeAllListeners(); // as the runner closes a leadership's subscription
    assert.equal(scheduler.leading(), false);
    leadership = new AbortController();
    await lead();
    assert.deepEqual(scheduler.functions('guest').map((f) => f.spec.name), ['echo'], 'the function, from the store');
    assert.equal(scheduler.activations('guest', { skip: 0, limit: 10 }).length, 3, 'the activations, from the store');
    const r = await scheduler.invoke({ namespace: 'guest', name: 'echo', params: { n: 6 }, subject: 'guest' }, { blocking: true, waitMs: 10_000 });
    assert.ok('activation' in r && r.activation.response.success, JSON.stringify(r));
    assert.equal(r.activation.cold, 'none', 'the last leadership\'s workers are not this one\'s: a new worker');
    await until('the last leadership\'s worker killed (it holds code this leader never sent)', () => framework.live() === 1);
    await until('the new leadership\'s blocking record stored', () => kv.has(`act/${r.activation.activationId}`));
  });
});
