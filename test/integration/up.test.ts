/**
 * `mezz up` as a process: everything it starts listens on 127.0.0.1 only,
 * and an agent killed with SIGKILL is restarted (with a line saying so)
 * while the rest of the cluster stays up; the agent returns with the same id
 * and recovers the task it was running, which never stopped.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { alive, Cluster, ROOT, task, waitFor } from '../harness';

const MEZZ = path.join(ROOT, 'bin/mezz.mjs');

function mezz(args: string[]) {
  return spawnSync(process.execPath, [MEZZ, ...args], { encoding: 'utf8', timeout: 60_000 });
}

/** The local addresses (hex, as /proc/net/tcp writes them) of the TCP sockets `pid` listens on. */
function listeningAddresses(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch { /* closed meanwhile */ }
  }
  const out: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is f[1] (ADDR:PORT), st is f[3] (0A = LISTEN), inode is f[9].
      if (f[3] === '0A' && inodes.has(f[9]!)) out.push(f[1]!.split(':')[0]!);
    }
  }
  return out;
}

describe('mezz up keeps the cluster up', () => {
  const c = new Cluster();
  after(() => c.teardown());

  test('binds 127.0.0.1, and restarts a killed agent, which recovers its running task', async () => {
    const probe = await c.startMaster({ name: 'probe' });
    const port = probe.port;
    await probe.stop();
    const master = `127.0.0.1:${port}`;
    const dataDir = path.join(c.dir, 'up');
    const up = spawn(process.execPath, [MEZZ, 'up', '--port', String(port), '--agents', '2', '--data-dir', dataDir,
      '--agent-resources', 'cpus:1;mem:512;disk:100'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    up.stdout.on('data', (d: Buffer) => (out += d.toString()));
    up.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let upExited = false;
    const exited = new Promise<number | null>((r) => up.on('exit', (code) => { upExited = true; r(code); }));
    try {
      await waitFor(`mezz up to be ready (output: ${out})`, () => /Ctrl-C stops the cluster/.test(out), 60_000);
      const pidOf = (name: string) => Number(new RegExp(`^\\s+${name}\\s+\\S+\\s+pid (\\d+)`, 'm').exec(out)![1]);

      // Every process it started listens, and only on loopback (7F000001 is 127.0.0.1 as /proc writes it).
      for (const name of ['master', 'agent-1', 'agent-2']) {
        const addresses = listeningAddresses(pidOf(name));
        assert.ok(addresses.length > 0, `${name} listens on something`);
        assert.deepEqual([...new Set(addresses)], ['0100007F'], `${name} listens only on 127.0.0.1`);
      }

      // A task that records its pid, then runs until killed.
      const fw = c.scheduler(master);
      await fw.subscribe({ name: 'up-test', failoverTimeout: 600 });
      fw.autoAck();
      const offer = (await fw.waitEvent('an offer', (e) => !!e.offers?.offers.length)).offers!.offers[0]!;
      const pidFile = path.join(c.dir, 'task.pid');
      fw.send({ accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [task('survivor', `echo $$ > ${pidFile}; exec sleep 600`, { cpus: 0.5, mem: 64 })] } }] } });
      await fw.waitEvent('survivor RUNNING', (e) => e.update?.status?.taskId === 'survivor' && e.update.status.state === 'TASK_RUNNING');
      const taskPid = Number(await waitFor('the task pid file', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim()));

      // Which of mezz up's agents runs it: the one whose work dir holds its sandbox.
      const name = ['agent-1', 'agent-2'].find((n) => existsSync(path.join(dataDir, n, 'sandboxes', fw.frameworkId)))!;
      assert.ok(name, 'the task has a sandbox in one agent work dir');
      const masterPid = pidOf('master');
      process.kill(pidOf(name), 'SIGKILL');

      await waitFor(`"${name} exited (signal SIGKILL); restarting in 1s" (output: ${out})`, () => out.includes(`${name} exited (signal SIGKILL); restarting in 1s`));
      await waitFor(`${name} to be back (output: ${out})`, () => new RegExp(`${name} is back, pid \\d+`).test(out));
      const agents = await waitFor('the agent ACTIVE again, with its task', () => {
        const r = mezz(['agents', '--json', '--master', master]);
        const list = r.status === 0 ? JSON.parse(r.stdout) as { id: string; state: string; tasks: number }[] : [];
        const a = list.find((x) => x.id === offer.agentId);
        return a?.state === 'ACTIVE' && a.tasks === 1 ? list : undefined;
      });
      assert.equal(agents.length, 2, 'the same two agents, no new id');
      const tasks = JSON.parse(mezz(['tasks', '--json', '--master', master]).stdout) as { id: string; state: string; agentId: string }[];
      assert.deepEqual(tasks.map((t) => [t.id, t.state, t.agentId]), [['survivor', 'TASK_RUNNING', offer.agentId]]);
      assert.ok(alive(taskPid), 'the task process never stopped');
      assert.deepEqual(fw.updates('survivor').map((s) => s.state).filter((s) => s !== 'TASK_STARTING' && s !== 'TASK_RUNNING'), [], 'no LOST or KILLED update');
      assert.ok(alive(masterPid) && !upExited, 'the master and mezz up stayed up');

      // Ctrl-C still stops everything, cleanly.
      process.kill(up.pid!, 'SIGTERM');
      assert.equal(await exited, 0, out);
      assert.equal(alive(masterPid), false, 'the master is gone');
    } finally {
      try { process.kill(-up.pid!, 'SIGKILL'); } catch { /* exited */ }
    }
  });
});
