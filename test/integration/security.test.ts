/**
 * Authentication and authorization on every surface, through real
 * processes: the scheduler API, agent registration, the operator API and
 * the agents' file service. For each: no credentials, wrong credentials,
 * a principal without the permission (all refused), and one with it.
 * Plus what must never happen whatever the credentials: a framework taking
 * over another principal's framework id, an agent taking another's id,
 * secrets in logs.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { bearerMetadata, type ClientSecurity, generateSecret } from '../../lib/auth';
import { mezzProto, type AgentFilesClient, type Call, type Event__Output, type ReadFileResponse__Output } from '../../lib/proto';
import { connectFramework, type SubscribeError } from '../../frameworks/sdk';
import { Cluster, op, quiet, task, waitFor, type Proc, type TestScheduler } from '../harness';
import { RawAgent } from '../fixtures/raw-agent';

const PRINCIPALS = ['ops', 'web', 'batch', 'viewer', 'agent', 'nobody-in-acls'] as const;
type Principal = (typeof PRINCIPALS)[number];
const secret = Object.fromEntries(PRINCIPALS.map((p) => [p, generateSecret()])) as Record<Principal, string>;
const as = (p: Principal): ClientSecurity => ({ token: secret[p] });
const WRONG: ClientSecurity = { token: generateSecret() };

const ACLS = {
  default: 'deny',
  rules: [
    { principals: ['ops'], actions: '*', objects: '*' },
    { principals: ['agent'], actions: ['register_agent'] },
    { principals: ['web'], actions: ['register_framework'], objects: ['web'] },
    { principals: ['batch'], actions: ['register_framework'], objects: ['batch'] },
    { principals: ['web', 'batch'], actions: ['kill_task', 'read_sandbox'], objects: ['$self'] },
    { principals: ['web'], actions: ['run_task_as'], objects: ['root'], allow: false },
    { principals: ['web'], actions: ['run_task_as'], objects: ['daemon'] },
    { principals: ['viewer'], actions: ['view'] },
  ],
};

const UNAUTHENTICATED = grpc.status.UNAUTHENTICATED;
const PERMISSION_DENIED = grpc.status.PERMISSION_DENIED;

let c: Cluster;
let master: Proc;
let agent: Proc;
let agentId: string;
/** The web framework, subscribed in before(), and its long-running task. */
let web: TestScheduler;
let webId: string;

function credentialsFile(name: string, principals: Principal[], secrets = secret): string {
  const file = path.join(c.dir, name);
  writeFileSync(file, JSON.stringify({ credentials: principals.map((p) => ({ principal: p, secret: secrets[p] })) }), { mode: 0o600 });
  return file;
}

/** Calls an Operator method as `who`; resolves the response or rejects with the gRPC error. */
const call = <Res = unknown>(who: ClientSecurity | undefined, method: string, req: object = {}) =>
  op<object, Res>(c.operator(master.address, who), method, req);

async function refusedWith(p: Promise<unknown>, code: grpc.status, text?: RegExp): Promise<string> {
  const err = await p.then(() => assert.fail('the call was allowed'), (e: grpc.ServiceError) => e);
  assert.equal(err.code, code, `expected ${grpc.status[code]}, got ${grpc.status[err.code]}: ${err.details}`);
  if (text) assert.match(err.details, text);
  return err.details;
}

/** Opens a Scheduler stream as `who` and sends SUBSCRIBE; resolves how it ended: a gRPC status, or the first SUBSCRIBED / fatal ERROR. */
function subscribeOutcome(who: ClientSecurity | undefined, framework: object): Promise<{ status?: grpc.StatusObject; event?: Event__Output }> {
  const s = c.scheduler(master.address, who);
  const stream = (s as unknown as { client: { subscribe(): grpc.ClientDuplexStream<Call, Event__Output> } }).client.subscribe();
  return new Promise((resolve) => {
    stream.on('data', (e: Event__Output) => {
      if (e.subscribed || e.error?.fatal) resolve({ event: e });
    });
    stream.on('error', () => undefined);
    stream.on('status', (status: grpc.StatusObject) => resolve({ status }));
    stream.write({ subscribe: { framework } });
  }).finally(() => stream.cancel()) as Promise<{ status?: grpc.StatusObject; event?: Event__Output }>;
}

before(async () => {
  c = new Cluster();
  const acls = path.join(c.dir, 'acls.json');
  writeFileSync(acls, JSON.stringify(ACLS));
  master = await c.startMaster({ args: ['--credentials', credentialsFile('credentials.json', [...PRINCIPALS]), '--acls', acls] });
  agent = await c.startAgent(master.address, { args: ['--credentials', credentialsFile('agent.json', ['agent'])] });
  agentId = await waitFor('the agent registered', async () =>
    (await call<{ agents: { id: string; address: string }[] }>(as('ops'), 'listAgents')).agents.find((a) => a.address.endsWith(`:${agent.port}`))?.id);
  web = c.scheduler(master.address, as('web'));
  webId = await web.subscribe({ name: 'web', roles: ['web'] });
  web.autoAck();
  await web.launchEach([task('web-1', 'echo the output of web-1; sleep 120')]);
  await waitFor('web-1 RUNNING', () => web.updates('web-1').some((s) => s.state === 'TASK_RUNNING'));
});
after(() => c.teardown());

describe('the scheduler API', () => {
  test('without a token, with a wrong one: UNAUTHENTICATED; a role the principal may not register in: PERMISSION_DENIED; its own role: SUBSCRIBED', async () => {
    for (const who of [undefined, WRONG]) {
      const r = await subscribeOutcome(who, { name: 'anon', roles: ['web'] });
      assert.equal(r.status?.code, UNAUTHENTICATED, JSON.stringify(r));
    }
    const denied = await subscribeOutcome(as('batch'), { name: 'sneaky', roles: ['web'] });
    assert.equal(denied.event?.error?.kind, 'PERMISSION_DENIED');
    assert.match(denied.event!.error!.message, /principal batch may not register_framework on "web"/);
    const allowed = await subscribeOutcome(as('batch'), { name: 'nightly', roles: ['batch'] });
    assert.ok(allowed.event?.subscribed?.frameworkId, JSON.stringify(allowed));
  });

  test("a framework cannot subscribe with another principal's framework id, even one allowed everything else; the owner stays subscribed", async () => {
    for (const who of ['batch', 'ops'] as const) {
      const r = await subscribeOutcome(as(who), { name: 'thief', id: webId, roles: [who === 'ops' ? 'web' : 'batch'], failoverTimeout: 0 });
      assert.equal(r.event?.error?.kind, 'PERMISSION_DENIED', JSON.stringify(r));
      assert.match(r.event!.error!.message, new RegExp(`framework ${webId} belongs to principal web, not ${who}`));
    }
    assert.ok(!web.ended && !web.events.some((e) => e.error), 'the owner was disturbed');
    const fws = await call<{ frameworks: { id: string; state: string }[] }>(as('ops'), 'listFrameworks');
    assert.equal(fws.frameworks.find((f) => f.id === webId)?.state, 'ACTIVE');
    // The owner itself may come back under its id (its offers from before are gone).
    for (const o of web.offers()) web.handled.add(o.id);
    web.close();
    assert.equal(await web.subscribe({ name: 'web', id: webId, roles: ['web'] }), webId);
  });

  test('the SDK: a wrong token fails connectFramework at once (UNAUTHENTICATED), a role not granted PERMISSION_DENIED, no retrying', async () => {
    const started = Date.now();
    const opts = { master: master.address, name: 'sdk', connectTimeout: '20s', logger: quiet };
    await assert.rejects(connectFramework({ ...opts, token: WRONG.token, roles: ['web'] }),
      (e: SubscribeError) => e.kind === 'UNAUTHENTICATED' && /not valid for any principal/.test(e.message));
    await assert.rejects(connectFramework({ ...opts, token: secret.batch, roles: ['web'] }),
      (e: SubscribeError) => e.kind === 'PERMISSION_DENIED' && /principal batch may not register_framework on "web"/.test(e.message));
    assert.ok(Date.now() - started < 10_000, 'the SDK retried a refusal that cannot change');
    const fw = await connectFramework({ ...opts, token: secret.batch, roles: ['batch'] });
    assert.ok(fw.frameworkId);
    await fw.close();
  });

  test('run_task_as: a user the ACLs deny is TASK_ERROR naming the rule; an allowed one launches', async () => {
    await web.launchEach([task('as-root', 'id -u', { user: 'root' }), task('as-daemon', 'id -u', { user: 'daemon' })]);
    const refused = await waitFor('as-root refused', () => web.updates('as-root').find((s) => s.state === 'TASK_ERROR'));
    assert.match(refused.message, /principal web may not run_task_as on "root".*rule 5/);
    await waitFor('as-daemon finished', () => web.updates('as-daemon').some((s) => s.state === 'TASK_FINISHED'));
  });
});

describe('agent registration', () => {
  test('an agent without credentials, with wrong ones, or as a principal without register_agent is refused; the cluster keeps one agent', async () => {
    const wrong = { ...secret, agent: generateSecret() };
    const attempts: [string, string[], RegExp][] = [
      ['no-creds', [], /UNAUTHENTICATED: this master requires authentication/],
      ['wrong-creds', ['--credentials', credentialsFile('wrong-agent.json', ['agent'], wrong)], /UNAUTHENTICATED: this master: the token presented is not valid/],
      ['web-creds', ['--credentials', credentialsFile('web-agent.json', ['web'])], /principal web may not register_agent/],
    ];
    for (const [name, args, why] of attempts) {
      const a = await c.startAgent(master.address, { name, args });
      await waitFor(`${name} refused`, () => why.test(a.output()), 20_000);
      await a.stop();
    }
    const agents = await call<{ agents: { id: string }[] }>(as('ops'), 'listAgents');
    assert.deepEqual(agents.agents.map((a) => a.id), [agentId]);
  });

  test("an authenticated agent cannot take another agent's id without its agent token; the owner's tasks keep running", async () => {
    const thief = new RawAgent(master.address, as('agent'));
    try {
      await assert.rejects(thief.register(agentId), /agent id .* is held by another agent: the agent token presented is missing/);
    } finally {
      thief.close();
    }
    const forged = new RawAgent(master.address, as('agent'));
    try {
      await assert.rejects(forged.register(agentId, [], generateSecret()), /does not match/);
    } finally {
      forged.close();
    }
    assert.match(master.output(), /refused an agent registration .*held by another agent/);
    const tasks = await call<{ tasks: { id: string; state: string; agentId: string }[] }>(as('ops'), 'listTasks');
    assert.equal(tasks.tasks.find((t) => t.id === 'web-1')?.state, 'TASK_RUNNING');
    assert.ok(!web.updates('web-1').some((s) => s.state !== 'TASK_RUNNING' && s.state !== 'TASK_STARTING'), 'web-1 was disturbed');
  });
});

describe('the operator API', () => {
  test('reads: no token and a wrong token UNAUTHENTICATED, a principal without view PERMISSION_DENIED, a viewer answered', async () => {
    await refusedWith(call(undefined, 'listTasks'), UNAUTHENTICATED, /requires authentication/);
    await refusedWith(call(WRONG, 'getState'), UNAUTHENTICATED, /not valid for any principal/);
    await refusedWith(call(as('web'), 'listTasks'), PERMISSION_DENIED, /principal web may not view/);
    await refusedWith(call(as('nobody-in-acls'), 'listAgents'), PERMISSION_DENIED, /no rule of .* matches; the default is deny/);
    const r = await call<{ tasks: { id: string }[] }>(as('viewer'), 'listTasks');
    assert.ok(r.tasks.some((t) => t.id === 'web-1'));
  });

  test('credentials are checked before a message is read: an unauthenticated 20 MB request is UNAUTHENTICATED, not decoded', async () => {
    const huge = { taskId: 'x'.repeat(20 * 1024 * 1024) };
    await refusedWith(call(WRONG, 'killTask', huge), UNAUTHENTICATED, /not valid for any principal/);
    // The same with valid credentials reaches the size cap.
    await refusedWith(call(as('ops'), 'killTask', huge), grpc.status.RESOURCE_EXHAUSTED);
  });

  test('weights: a viewer may not change them, ops may', async () => {
    await refusedWith(call(as('viewer'), 'updateWeights', { weights: [{ role: 'web', weight: 3 }] }), PERMISSION_DENIED, /may not update_weights on "web"/);
    const roles = await call<{ roles: { name: string; weight: number }[] }>(as('ops'), 'updateWeights', { weights: [{ role: 'web', weight: 3 }] });
    assert.equal(roles.roles.find((r) => r.name === 'web')?.weight, 3);
  });

  test("kill and teardown: another principal's framework PERMISSION_DENIED; its own principal may kill", async () => {
    await web.launchEach([task('web-victim', 'sleep 120')]);
    await waitFor('web-victim RUNNING', () => web.updates('web-victim').some((s) => s.state === 'TASK_RUNNING'));
    await refusedWith(call(undefined, 'killTask', { taskId: 'web-victim' }), UNAUTHENTICATED);
    await refusedWith(call(as('batch'), 'killTask', { taskId: 'web-victim' }), PERMISSION_DENIED, /principal batch may not kill_task on "web"/);
    await refusedWith(call(as('batch'), 'teardownFramework', { frameworkId: webId }), PERMISSION_DENIED, /may not teardown_framework on "web"/);
    await call(as('web'), 'killTask', { taskId: 'web-victim' });
    const killed = await waitFor('web-victim KILLED', () => web.updates('web-victim').find((s) => s.state === 'TASK_KILLED'));
    assert.match(killed.message, /killed by an operator/);
  });

  test('every refusal is an audit line in the master log: who, what, on what, and why', () => {
    const out = master.output();
    assert.match(out, /audit: batch from \S+ kill_task on "web" \(Operator\.KillTask of task web-victim of framework fw-[^)]+\): DENIED, no rule of .* matches; the default is deny/);
    assert.match(out, /audit: unauthenticated Operator\.ListTasks from \S+ refused/);
    assert.match(out, /audit: unauthenticated Scheduler\.Subscribe from \S+ refused/);
    assert.match(out, /audit: ops from \S+ update_weights on "web" .*: allowed, rule 0/);
  });
});

describe("the agents' file service", () => {
  const direct = (metadata: grpc.Metadata) => new Promise<ReadFileResponse__Output>((resolve, reject) => {
    const files = new (mezzProto().AgentFiles)(agent.address, grpc.credentials.createInsecure()) as AgentFilesClient;
    files.readFile({ taskId: 'web-1', path: 'stdout', frameworkId: webId }, metadata, { deadline: Date.now() + 10_000 }, (err, r) => {
      files.close();
      if (err) reject(err); else resolve(r!);
    });
  });

  test('straight to the agent: no token and a wrong token UNAUTHENTICATED (even a principal\'s own); through the master: read_sandbox decides', async () => {
    await refusedWith(direct(new grpc.Metadata()), UNAUTHENTICATED, /read task files through the master/);
    await refusedWith(direct(bearerMetadata(secret.ops)), UNAUTHENTICATED, /not valid/);
    await refusedWith(call(as('batch'), 'readTaskFile', { taskId: 'web-1', path: 'stdout' }), PERMISSION_DENIED, /may not read_sandbox on "web"/);
    await refusedWith(call(as('viewer'), 'readTaskFile', { taskId: 'web-1', path: 'stdout' }), PERMISSION_DENIED, /may not read_sandbox/);
    const r = await call<ReadFileResponse__Output>(as('web'), 'readTaskFile', { taskId: 'web-1', path: 'stdout' });
    assert.match(Buffer.from(r.data).toString(), /the output of web-1/);
  });
});

describe('secrets', () => {
  test('no secret appears in the master\'s or the agents\' output', () => {
    for (const p of c.procs) {
      for (const [who, s] of Object.entries(secret)) assert.ok(!p.output().includes(s), `${p.name} printed the secret of ${who}`);
    }
  });
});
