/**
 * `mezz app …` and `mezz deployments` against a real master, agent and
 * mezz-services, with authentication on everywhere: the CLI finds the
 * services API through the master (the framework's webui_url), carries its
 * token there, deploys from a YAML file and follows the deployment step by
 * step, lists, scales, says why instances wait, lists tasks, removes; lists
 * versions, rolls back, restarts; a never-healthy version fails at its
 * --deadline and is rolled back, said on stderr; a running deployment is
 * listed and cancelled, and a change to its app is refused naming it; a
 * misspelt field is refused naming its path.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { generateSecret } from '../../lib/auth';
import { MEZZ } from '../fixtures/mezz-up';
import { Cluster, waitFor, type Proc } from '../harness';

const c = new Cluster();
const ops = generateSecret();
let master: Proc;

/** Runs mezz as `ops` (or with `env` overrides); resolves its exit code and output. */
function mezz(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MEZZ, ...args], {
      env: { ...process.env, MEZZ_MASTER: master.address, MEZZ_TOKEN: ops, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

before(async () => {
  const agentSecret = generateSecret();
  const creds = path.join(c.dir, 'credentials.json');
  writeFileSync(creds, JSON.stringify({ credentials: [{ principal: 'ops', secret: ops }, { principal: 'agent', secret: agentSecret }] }), { mode: 0o600 });
  const agentCreds = path.join(c.dir, 'agent.json');
  writeFileSync(agentCreds, JSON.stringify({ credentials: [{ principal: 'agent', secret: agentSecret }] }), { mode: 0o600 });
  master = await c.startMaster({ args: ['--credentials', creds] });
  await c.startAgent(master.address, { resources: 'cpus:0.35;mem:1024;disk:1024;ports:[31000-31099]', args: ['--credentials', agentCreds] });
  await c.spawn('services', 'mezz-services.mjs', [
    '--master', master.address, '--host', '127.0.0.1', '--port', '0', '--data-dir', path.join(c.dir, 'services'),
    '--credentials', creds, '--token', ops,
  ]);
  await waitFor('mezz app list to answer', async () => (await mezz(['app', 'list'])).code === 0, 60_000, 500);
});
after(() => c.teardown());

test('deploy from YAML follows the app until it runs; list, scale, why, tasks and rm work through the master\'s address alone', async () => {
  const file = path.join(c.dir, 'sleepy.yaml');
  writeFileSync(file, 'id: /cli/sleepy\ncmd: sleep 600\ninstances: 2\ncpus: 0.1\nmem: 32\n');
  const deployed = await mezz(['app', 'deploy', file]);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stderr, /step 1\/1 succeeded: \/cli\/sleepy 0 old, 2\/2 new, 2 healthy/);
  assert.match(deployed.stdout, /\/cli\/sleepy: version \S+ deployed \(deployment \S+ succeeded\)/);

  const list = await mezz(['app', 'list', '--json']);
  assert.equal(list.code, 0, list.stderr);
  const apps = JSON.parse(list.stdout) as { id: string; tasksRunning: number }[];
  assert.equal(apps.find((a) => a.id === '/cli/sleepy')?.tasksRunning, 2);

  // Five do not fit in 0.35 cpus: three run, two wait, and `why` says it is the cpus.
  const scaled = await mezz(['app', 'scale', '/cli/sleepy', '5', '--detach']);
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.match(scaled.stdout, /\/cli\/sleepy: deployment \S+ started/);
  const why = await waitFor('why to name the cpus', async () => {
    const r = await mezz(['app', 'why', '/cli/sleepy']);
    return r.code === 0 && /2 instance\(s\) waiting/.test(r.stdout) && /cpus/.test(r.stdout) ? r.stdout : undefined;
  }, 60_000, 500);
  assert.match(why, /REASON\s+OFFERS/);

  const tasks = await mezz(['app', 'tasks', '/cli/sleepy']);
  assert.equal(tasks.code, 0, tasks.stderr);
  assert.equal((tasks.stdout.match(/TASK_RUNNING/g) ?? []).length, 3, tasks.stdout);

  assert.equal((await mezz(['app', 'rm', '/cli/sleepy'])).code, 0);
  await waitFor('the app to be gone', async () => /no apps/.test((await mezz(['app', 'list'])).stdout), 30_000, 500);
});

interface ShownApp {
  cmd: string;
  versionInfo: { lastConfigChangeAt: string };
  tasks: { id: string; state: string; version: string }[];
}

async function shown(id: string): Promise<ShownApp> {
  const r = await mezz(['app', 'show', id, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as ShownApp;
}

/** Writes an app of `cmd` (tiny, so that old and new instances fit beside the other tests' apps) and answers its file. */
function appFile(name: string, spec: Record<string, unknown>): string {
  const file = path.join(c.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ cpus: 0.02, mem: 16, instances: 1, ...spec }));
  return file;
}

/** A COMMAND health check that always fails: a version with it never becomes healthy. */
const NEVER_HEALTHY = [{ protocol: 'COMMAND', command: { value: 'exit 1' }, intervalSeconds: 1, gracePeriodSeconds: 1 }];

test('deploy shows the rollout step by step; versions; rollback to the previous version; restart; a never-healthy version fails at --deadline and is rolled back', async () => {
  const first = await mezz(['app', 'deploy', appFile('roll-v1', { id: '/cli/roll', cmd: 'sleep 600' })]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /following deployment \S+/);
  assert.match(first.stderr, /step 1\/1 succeeded: \/cli\/roll 0 old, 1\/1 new, 1 healthy/);
  const v1 = /version (\S+) deployed/.exec(first.stdout)?.[1];
  assert.ok(v1, first.stdout);

  // A new command: a rolling update, its progress seen while the old instance still runs.
  const second = await mezz(['app', 'deploy', appFile('roll-v2', { id: '/cli/roll', cmd: 'sleep 601' })]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /step 1\/1 running: \/cli\/roll 1 old, [01]\/1 new/);
  assert.match(second.stderr, /step 1\/1 succeeded: \/cli\/roll 0 old, 1\/1 new, 1 healthy/);

  const versions = await mezz(['app', 'versions', '/cli/roll', '--json']);
  assert.equal(versions.code, 0, versions.stderr);
  const list = JSON.parse(versions.stdout) as { version: string; current: boolean; cmd: string }[];
  assert.deepEqual(list.map((v) => [v.cmd, v.current]), [['sleep 601', true], ['sleep 600', false]]);
  assert.equal(list[1]!.version, v1);
  assert.match((await mezz(['app', 'versions', '/cli/roll'])).stdout, /VERSION\s+CURRENT\s+INSTANCES\s+COMMAND\n\S+\s+\*\s+1\s+sleep 601/);

  const rolled = await mezz(['app', 'rollback', '/cli/roll']);
  assert.equal(rolled.code, 0, rolled.stderr);
  assert.match(rolled.stdout, new RegExp(`/cli/roll: rolled back to version ${v1}`));
  const back = await shown('/cli/roll');
  assert.equal(back.cmd, 'sleep 600');
  assert.deepEqual(back.tasks.map((t) => [t.state, t.version]), [['TASK_RUNNING', back.versionInfo.lastConfigChangeAt]]);

  const restarted = await mezz(['app', 'restart', '/cli/roll']);
  assert.equal(restarted.code, 0, restarted.stderr);
  assert.match(restarted.stdout, /\/cli\/roll: restarted as version \S+ \(deployment \S+ succeeded\)/);
  const fresh = await shown('/cli/roll');
  assert.equal(fresh.tasks.length, 1);
  assert.notEqual(fresh.tasks[0]!.id, back.tasks[0]!.id, 'a restart replaces the instance');

  const bad = await mezz(['app', 'deploy', appFile('roll-bad', { id: '/cli/roll', cmd: 'sleep 602', healthChecks: NEVER_HEALTHY }), '--deadline', '8s']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /following its rollback \S+-rollback/);
  assert.match(bad.stderr, /mezz: deployment \S+ failed: \/cli\/roll: no progress within 8 ?s.*; rolled back to the previous version \(\S+-rollback succeeded\)/);
  assert.match(bad.stderr, /step 1\/1 failed\n/, "a failed deployment's line shows no counts: they would be the rollback's");
  assert.ok(!/\n\s+at /.test(bad.stderr), 'no stack trace');
  const kept = await shown('/cli/roll');
  assert.equal(kept.cmd, 'sleep 600');
  assert.deepEqual(kept.tasks.map((t) => [t.id, t.state]), [[fresh.tasks[0]!.id, 'TASK_RUNNING']], 'the old instance ran throughout');

  assert.equal((await mezz(['app', 'rm', '/cli/roll'])).code, 0);
});

test('--wait runs out with the deployment still running; mezz deployments lists it, a change to its app is refused naming it, and rm cancels it', async () => {
  // Followed for --wait 3s only: the deployment carries on, and the message says how to watch and cancel it.
  const started = await mezz(['app', 'deploy', appFile('stuck', { id: '/cli/stuck', cmd: 'sleep 600', healthChecks: NEVER_HEALTHY }), '--wait', '3s']);
  assert.equal(started.code, 1, started.stderr);
  const deploymentId = /mezz: deployment (\S+) is still running after 3s \(step 1\/1\); it keeps running: watch it with 'mezz deployments watch \1', cancel it with 'mezz deployments rm \1'/.exec(started.stderr)?.[1];
  assert.ok(deploymentId, started.stderr);

  const listed = await mezz(['deployments']);
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /ID\s+APPS\s+STEP\s+STATE\s+WHY/);
  assert.match(listed.stdout, new RegExp(`${deploymentId}\\s+/cli/stuck\\s+1/1\\s+running`));

  const locked = await mezz(['app', 'scale', '/cli/stuck', '2']);
  assert.equal(locked.code, 1);
  assert.match(locked.stderr, new RegExp(`^mezz: app /cli/stuck is locked by deployment ${deploymentId}; use --force`));

  const rm = await mezz(['deployments', 'rm', deploymentId]);
  assert.equal(rm.code, 0, rm.stderr);
  assert.match(rm.stdout, new RegExp(`deployment ${deploymentId} cancelled; its apps roll back as deployment ${deploymentId}-rollback`));
  // Rolling back a deployment that created the app removes it.
  await waitFor('the rollback to remove /cli/stuck', async () => {
    const d = await mezz(['deployments', '--json']);
    const apps = await mezz(['app', 'list', '--json']);
    return d.code === 0 && apps.code === 0 && (JSON.parse(d.stdout) as unknown[]).length === 0
      && !(JSON.parse(apps.stdout) as { id: string }[]).some((a) => a.id === '/cli/stuck');
  }, 30_000, 500);
  assert.equal((await mezz(['deployments', 'rm', deploymentId])).code, 1, 'a finished deployment cannot be cancelled');

  // watch follows one to its end: the cancelled one fails, naming its rollback; the rollback succeeded.
  const cancelled = await mezz(['deployments', 'watch', deploymentId]);
  assert.equal(cancelled.code, 1, cancelled.stdout);
  assert.match(cancelled.stderr, new RegExp(`deployment ${deploymentId} was cancelled.*${deploymentId}-rollback succeeded`));
  const rolledBack = await mezz(['deployments', 'watch', `${deploymentId}-rollback`]);
  assert.equal(rolledBack.code, 0, rolledBack.stderr);
  assert.match(rolledBack.stdout, /succeeded/);
  const unknown = await mezz(['deployments', 'watch', 'no-such-deployment']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^mezz: deployment no-such-deployment does not exist/m);
});

test('refusals are one line on stderr with a non-zero exit: a misspelt field by its path, a wrong token', async () => {
  const file = path.join(c.dir, 'typo.json');
  writeFileSync(file, JSON.stringify({ id: '/cli/typo', cmd: 'sleep 1', instaces: 1 }));
  const typo = await mezz(['app', 'deploy', file, '--detach']);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /422 Object is not valid: \/instaces/);
  const wrong = await mezz(['app', 'list'], { MEZZ_TOKEN: generateSecret() });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /UNAUTHENTICATED/);
  assert.ok(!wrong.stderr.includes(ops));
});
