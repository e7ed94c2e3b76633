/**
 * The `mezz` binary as a user runs it: a child process, against a fake
 * Operator server (grpc-js, in this process) that answers known responses.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { NotLeaderError } from '../../lib/errors';
import { toServiceError } from '../../lib/grpc';
import { mezzProto, type TaskSummary } from '../../lib/proto';
import { waitFor } from '../harness';

const MEZZ = fileURLToPath(new URL('../../bin/mezz.mjs', import.meta.url));

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `mezz args…` without blocking this process's event loop (the fake master lives here). */
function mezz(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MEZZ, ...args], { env: { ...process.env, ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

// ── the fake master ────────────────────────────────────────────────────

const scalars = (cpus: number, mem: number, disk = 0, gpus = 0) => ({ cpus, mem, disk, gpus });
const TASKS: TaskSummary[] = [
  { id: 'web-1', name: 'web', frameworkId: 'fw-1', agentId: 'agent-1', state: 'TASK_RUNNING', resources: scalars(0.5, 128), message: '' },
  { id: 'job-7', name: 'job', frameworkId: 'fw-2', agentId: 'agent-2', state: 'TASK_FAILED', resources: scalars(1, 256), message: 'exited with status 2', exitCode: 2 },
];
const LOG = Buffer.from('line one\nline two\nline three\n');
const requests: { method: string; request: unknown }[] = [];
let weight = 1;
/** A task whose stdout grows by a line per poll, ending after two. */
const followed = { id: '', state: 'TASK_RUNNING', log: Buffer.alloc(0), ticks: 0 };
let address = '';
const server = new grpc.Server();
let standbyAddress = '';
const standby = new grpc.Server();

before(async () => {
  const reply = <Req, Res>(method: string, fn: (req: Req) => Res) =>
    (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
      requests.push({ method, request: call.request });
      try {
        cb(null, fn(call.request));
      } catch (err) {
        cb(err as grpc.ServiceError);
      }
    };
  server.addService(mezzProto().Operator.service, {
    GetState: reply('GetState', () => ({
      masterId: 'm-1', version: '0.1.0', address: '127.0.0.1:5050', leader: true, startedAt: Date.now() / 1000 - 60,
      agentsActive: 2, frameworksActive: 2, tasksByState: { TASK_RUNNING: 1, TASK_FAILED: 1 },
      total: scalars(8, 16384), used: scalars(1.5, 384), offered: scalars(0, 0),
    })),
    ListAgents: reply('ListAgents', () => ({
      agents: [
        { id: 'agent-1', hostname: 'h1', address: '127.0.0.1:4001', state: 'ACTIVE', resources: scalars(4, 8192, 1024), used: scalars(0.5, 128),
          attributes: [{ name: 'rack', text: 'r1' }], ports: '31000-32000', tasks: 1, isolation: ['posix/process-group'] },
        { id: 'agent-2', hostname: 'h2', address: '127.0.0.1:4002', state: 'UNREACHABLE', resources: scalars(4, 8192, 1024), used: scalars(1, 256), tasks: 1 },
      ],
    })),
    ListFrameworks: reply('ListFrameworks', () => ({
      frameworks: [{ id: 'fw-1', name: 'hello', roles: ['dev'], state: 'ACTIVE', failoverTimeout: 3600, tasks: 1, used: scalars(0.5, 128), suppressed: true, capabilities: ['PARTITION_AWARE'] }],
    })),
    ListTasks: reply('ListTasks', (req: { state: string }) => {
      if (req.state) return { tasks: TASKS.filter((t) => t.state === req.state) };
      // Unfiltered lists are what `logs --follow` polls: each one moves the followed task on.
      if (followed.state === 'TASK_RUNNING' && followed.id) {
        followed.log = Buffer.concat([followed.log, Buffer.from(`tick ${++followed.ticks}\n`)]);
        if (followed.ticks === 2) followed.state = 'TASK_FINISHED';
      }
      return { tasks: [...TASKS, { id: followed.id, name: 'f', frameworkId: 'fw-1', agentId: 'agent-1', state: followed.state }, { id: 'forever', state: 'TASK_RUNNING' }] };
    }),
    ListRoles: reply('ListRoles', () => ({ roles: [{ name: 'dev', weight, share: 0.25, allocated: scalars(2, 4096), frameworks: ['fw-1'] }] })),
    UpdateWeights: reply('UpdateWeights', (req: { weights: { role: string; weight: number }[] }) => {
      weight = req.weights[0]!.weight;
      return { roles: [{ name: req.weights[0]!.role, weight, share: 0.25, allocated: scalars(2, 4096), frameworks: ['fw-1'] }] };
    }),
    GetVersion: reply('GetVersion', () => ({ version: '0.1.0', masterId: 'm-1' })),
    // At most 7 bytes a call, so that the CLI must read in chunks until EOF.
    ReadTaskFile: reply('ReadTaskFile', (req: { taskId: string; path: string; offset: number }) => {
      if (req.taskId === followed.id) return { data: followed.log.subarray(req.offset), offset: req.offset, size: followed.log.length };
      if (req.taskId === 'forever') return { data: Buffer.alloc(0), offset: req.offset, size: 0 };
      if (req.taskId !== 'job-7') throw Object.assign(new Error(), { code: grpc.status.NOT_FOUND, details: `task ${req.taskId} not found` });
      const file = req.path === 'stderr' ? Buffer.from('oops\n') : LOG;
      return { data: file.subarray(req.offset, req.offset + 7), offset: req.offset, size: file.length };
    }),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  address = `127.0.0.1:${port}`;

  // A standby that names the leader only in its trailing metadata, as masters do; its text names nobody.
  standby.addService(mezzProto().Operator.service, new Proxy({}, {
    get: () => (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(toServiceError(new NotLeaderError('this master is a standby', address)) as grpc.ServiceError),
  }));
  const standbyPort = await new Promise<number>((resolve, reject) =>
    standby.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  standbyAddress = `127.0.0.1:${standbyPort}`;
});

after(() => {
  server.forceShutdown();
  standby.forceShutdown();
});

describe('mezz against a master', () => {
  it('agents: a table with used/total', async () => {
    const r = await mezz(['agents', '--master', address]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, [
      // each column as wide as its widest cell (MEM: "128MB/8GB" = 9), three spaces apart
      'ID        HOSTNAME   STATE         CPUS    MEM         DISK      GPUS   TASKS   ISOLATION',
      'agent-1   h1         ACTIVE        0.5/4   128MB/8GB   0MB/1GB   0/0    1       posix/process-group',
      'agent-2   h2         UNREACHABLE   1/4     256MB/8GB   0MB/1GB   0/0    1       -',
      '',
    ].join('\n'));
  });

  it('agents --json: one array, with attributes as an object (global flag before the command, master from env)', async () => {
    const r = await mezz(['--json', 'agents'], { MEZZ_MASTER: address });
    assert.equal(r.code, 0, r.stderr);
    const agents = JSON.parse(r.stdout);
    assert.equal(agents.length, 2);
    assert.deepEqual(agents[0].attributes, { rack: 'r1' });
    assert.deepEqual(agents[0].used, { cpus: 0.5, mem: 128, disk: 0, gpus: 0 });
    assert.equal(agents[1].state, 'UNREACHABLE');
  });

  it('tasks --state running: normalises the state for the master and prints the match', async () => {
    const from = requests.length;
    const r = await mezz(['tasks', '--state', 'running', '--master', address, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(requests.slice(from).filter((q) => q.method === 'ListTasks').map((q) => (q.request as { state: string }).state), ['TASK_RUNNING']);
    const tasks = JSON.parse(r.stdout);
    assert.deepEqual(tasks.map((t: { id: string; state: string; exitCode: number | null }) => [t.id, t.state, t.exitCode]), [['web-1', 'TASK_RUNNING', null]]);
  });

  it('tasks: a table with exit codes and messages', async () => {
    const r = await mezz(['tasks', '--master', address]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^ID\s+NAME\s+FRAMEWORK\s+AGENT\s+STATE\s+EXIT\s+CPUS\s+MEM\s+MESSAGE$/);
    assert.match(lines[2]!, /^job-7\s+job\s+fw-2\s+agent-2\s+FAILED\s+2\s+1\s+256MB\s+exited with status 2$/);
  });

  it('follows the leader a standby names in its trailing metadata', async () => {
    const r = await mezz(['agents', '--master', standbyAddress]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^agent-1\s+h1/m);
  });

  it('frameworks and status print without error', async () => {
    const f = await mezz(['frameworks', '--master', address]);
    assert.equal(f.code, 0, f.stderr);
    assert.match(f.stdout, /fw-1\s+hello\s+dev\s+ACTIVE \(suppressed\)\s+1\s+0\.5\s+128MB\s+0\s+1h/);
    const s = await mezz(['status', '--master', address]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^master\s+m-1 at 127\.0\.0\.1:5050 \(leader\), version 0\.1\.0, up 1m/);
    assert.match(s.stdout, /tasks\s+1 running, 1 failed/);
  });

  it('weights set: sends the weight and prints the roles', async () => {
    const r = await mezz(['weights', 'set', 'dev', '2.5', '--master', address]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ROLE\s+WEIGHT\s+SHARE\s+CPUS\s+MEM\s+FRAMEWORKS\ndev\s+2\.5\s+25%\s+2\s+4GB\s+1\n$/);
  });

  it('logs: reads the file in chunks until EOF, raw', async () => {
    const r = await mezz(['logs', 'job-7', '--master', address]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, LOG.toString());
    const e = await mezz(['logs', 'job-7', '--stderr', '--follow', '--master', address]);
    assert.equal(e.code, 0, e.stderr); // job-7 is terminal: --follow drains and stops
    assert.equal(e.stdout, 'oops\n');
  });

  it('logs --follow: prints what the task writes until it ends', async () => {
    // A fresh followed task: whatever listed tasks before (another test, an earlier run) moved the old one on.
    Object.assign(followed, { id: 'follow-1', state: 'TASK_RUNNING', log: Buffer.alloc(0), ticks: 0 });
    const r = await mezz(['logs', 'follow-1', '--follow', '--master', address]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'tick 1\ntick 2\n');
  });

  it('logs --follow: Ctrl-C stops it cleanly', async () => {
    const from = requests.length;
    const child = execFile(process.execPath, [MEZZ, 'logs', 'forever', '-f', '--master', address]);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let code: number | null | undefined;
    child.on('exit', (c) => (code = c));
    try {
      // Reading the file means following has begun, and with it the SIGINT handler.
      await waitFor('mezz to read forever\'s stdout', () => requests.slice(from).some((q) => q.method === 'ReadTaskFile' && (q.request as { taskId: string }).taskId === 'forever'));
      child.kill('SIGINT');
      await waitFor('mezz to exit after SIGINT', () => code !== undefined);
    } finally {
      if (code === undefined) child.kill('SIGKILL');
    }
    assert.equal(code, 0);
    assert.equal(stderr, '');
  });

  it('logs: an unknown task is the master\'s NOT_FOUND, on one line, exit 1', async () => {
    const r = await mezz(['logs', 'nope', '--master', address]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'mezz: NOT_FOUND: task nope not found\n');
  });

  it('tries the masters in turn', async () => {
    const r = await mezz(['version', '--master', `127.0.0.1:1,${address}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'mezz 0.1.0\nmaster 0.1.0 (m-1)\n');
  });
});

describe('mezz errors', () => {
  it('weights set with a negative weight: exit 2, one line', async () => {
    const r = await mezz(['weights', 'set', 'r', '-1', '--master', '127.0.0.1:1']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.match(r.stderr, /^mezz: weight must be a positive number/);
  });

  it('status without a master: "cannot reach", exit 1', async () => {
    const r = await mezz(['status', '--master', '127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "mezz: cannot reach the master at 127.0.0.1:1 (UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:1); is it running? start one with 'mezz up'\n");
    assert.equal(r.stdout, '');
  });

  it('an unknown task state: exit 2, listing the valid ones', async () => {
    const r = await mezz(['tasks', '--state', 'sleeping', '--master', '127.0.0.1:1']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mezz: unknown task state "sleeping"; valid states: staging, starting, running/);
  });
});
