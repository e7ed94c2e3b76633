/**
 * ListTasks in pages, against a real master: more tasks than one page holds
 * (on simulated agents, `mezz-agent --simulate`, so a thousand tasks cost no
 * processes), `mezz tasks --json` listing every one of them, and a task with
 * a 60 KB command listed with its command cut short instead of swelling every
 * listing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ListTasksResponse__Output } from '../../lib/proto/generated/mezzanine/v1/ListTasksResponse';
import { MAX_TASKS_PER_PAGE } from '../../lib/limits';
import { Cluster, op, ROOT, task, waitFor, type Proc, type TestScheduler } from '../harness';

const MEZZ = path.join(ROOT, 'bin/mezz.mjs');
/** One page and a bit: the CLI must ask twice. */
const TASKS = MAX_TASKS_PER_PAGE + 100;
const BIG = 60 * 1024;

describe('ListTasks in pages', () => {
  const c = new Cluster();
  let master: Proc;
  let sim: ChildProcess;
  let fw: TestScheduler;
  const list = (req: object) => op<object, ListTasksResponse__Output>(c.operator(master.address), 'listTasks', req);

  before(async () => {
    master = await c.startMaster();
    // Three simulated agents of 500 cpus each; their tasks run until killed.
    sim = spawn(process.execPath, [path.join(ROOT, 'bin/mezz-agent.mjs'), '--simulate', '3', '--master', master.address,
      '--work-dir', path.join(c.dir, 'sim'), '--resources', 'cpus:500;mem:100000;disk:1000', '--task-duration', '0'],
    { cwd: ROOT, detached: true, stdio: 'ignore' });
    fw = c.scheduler(master.address);
    await fw.subscribe({ name: 'pages', failoverTimeout: 600 });
    fw.autoAck();
    // Tasks of 1 cpu each, as many per offer as it holds, until TASKS are launched; the first is the big one.
    let launched = 0;
    await waitFor(`${TASKS} tasks launched`, () => {
      for (const offer of fw.outstanding()) {
        const cpus = offer.resources.find((r) => r.name === 'cpus')?.scalar ?? 0;
        const n = Math.min(Math.floor(cpus), TASKS - launched);
        const infos = Array.from({ length: n }, (_, i) => launched + i === 0
          ? task('big', `echo ${'x'.repeat(BIG)}`, { cpus: 1, mem: 1 })
          : task(`t-${String(launched + i).padStart(5, '0')}`, 'sleep 600', { cpus: 1, mem: 1 }));
        launched += n;
        fw.send(n ? { accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: infos } }] } } : { decline: { offerIds: [offer.id] } });
      }
      return launched >= TASKS;
    }, 60_000);
    await waitFor(`${TASKS} tasks RUNNING`, () => new Set(fw.updates().filter((s) => s.state === 'TASK_RUNNING').map((s) => s.taskId)).size === TASKS, 60_000);
  });
  after(async () => {
    try { process.kill(-sim.pid!, 'SIGKILL'); } catch { /* gone */ }
    await c.teardown();
  });

  test('pages of at most `limit` tasks, in order, that together list every task once', async () => {
    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const page = await list({ limit: 400, pageToken });
      assert.ok(page.tasks.length <= 400, `page ${pages} has ${page.tasks.length} tasks`);
      seen.push(...page.tasks.map((t) => t.id));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken && pages < 10);
    // 1100 tasks / 400 a page = 3 pages (400, 400, 300).
    assert.equal(pages, 3);
    assert.equal(seen.length, TASKS);
    assert.equal(new Set(seen).size, TASKS);
    assert.deepEqual(seen, [...seen].sort(), 'ordered by task id within the one framework');
    // No limit, or one above the most: MAX_TASKS_PER_PAGE.
    assert.equal((await list({})).tasks.length, MAX_TASKS_PER_PAGE);
    assert.equal((await list({ limit: 5000 })).tasks.length, MAX_TASKS_PER_PAGE);
  });

  test('a page token the master did not issue is refused, saying so without echoing it', async () => {
    const bogus = 'A'.repeat(10_000);
    await assert.rejects(list({ pageToken: bogus }), (err: Error & { code?: number; details?: string }) => {
      assert.equal(err.code, 3); // INVALID_ARGUMENT
      assert.match(err.details!, /page_token of 10000 characters is not one this master issued/);
      assert.ok(!err.details!.includes('AAAAAAAAAA'));
      return true;
    });
  });

  test('mezz tasks --json lists every task across pages, and a 60 KB command is cut in the listing', () => {
    const r = spawnSync(process.execPath, [MEZZ, 'tasks', '--json', '--master', master.address], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const tasks = JSON.parse(r.stdout) as { id: string; command: string }[];
    assert.equal(tasks.length, TASKS);
    assert.equal(new Set(tasks.map((t) => t.id)).size, TASKS);
    const big = tasks.find((t) => t.id === 'big')!;
    // `echo ` + 61440 x's = 61445 characters, cut to 300 and a note of how many more.
    assert.ok(big.command.length < 400, `the big command is listed with ${big.command.length} characters`);
    assert.match(big.command, /^echo x+… \(61145 more characters cut\)$/);
  });
});
