/**
 * `mezz app …` against a real master, agent and mezz-services, with
 * authentication on everywhere: the CLI finds the services API through the
 * master (the framework's webui_url), carries its token there, deploys from
 * a YAML file and follows the app until it runs, lists, scales, says why
 * instances wait, lists tasks, removes; a misspelt field is refused naming
 * its path.
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
  assert.match(deployed.stderr, /\/cli\/sleepy: 2\/2 running/);
  assert.match(deployed.stdout, /\/cli\/sleepy: 2 instance\(s\) running/);

  const list = await mezz(['app', 'list', '--json']);
  assert.equal(list.code, 0, list.stderr);
  const apps = JSON.parse(list.stdout) as { id: string; tasksRunning: number }[];
  assert.equal(apps.find((a) => a.id === '/cli/sleepy')?.tasksRunning, 2);

  // Five do not fit in 0.35 cpus: three run, two wait, and `why` says it is the cpus.
  assert.equal((await mezz(['app', 'scale', '/cli/sleepy', '5'])).code, 0);
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
