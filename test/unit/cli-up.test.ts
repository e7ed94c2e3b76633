/** `mezz up`'s restart backoff (1 s, doubling, capped at 30 s), its shipped frameworks' flags, ports and environment, its credentials files, and the CLI's words for refusals. */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Acls, type Action, loadCredentials, readTokenFile } from '../../lib/auth';
import { agentResources, FRAMEWORKS, frameworkEnv, portInUse, restartDelayMs, validate } from '../../cli/commands/up';
import { ADMIN, AGENT, allFiles, ensureLocalCredentials, localAcls } from '../../cli/commands/up-credentials';
import { CliError, explainRefusal, UsageError } from '../../cli/errors';

const SERVICES = 'services';
const BATCH = 'batch';
const FUNCTIONS = 'functions';
/** The shipped frameworks' principals, as mezz up passes them. */
const NAMES = FRAMEWORKS.map((fw) => fw.name);

test('restartDelayMs doubles from 1 s and stops at 30 s', () => {
  const cases = [
    { attempt: 0, want: 1_000 },
    { attempt: 1, want: 2_000 },
    { attempt: 4, want: 16_000 },
    { attempt: 5, want: 30_000 }, // 32 s, capped
    { attempt: 1_000, want: 30_000 }, // no overflow to Infinity
  ];
  for (const { attempt, want } of cases) assert.equal(restartDelayMs(attempt), want, `attempt ${attempt}`);
});

test("a framework presents its own token file, whatever token, TLS or master the shell of mezz up names", () => {
  const shell = { PATH: '/usr/bin', MEZZ_TOKEN: 'someone-elses-token', MEZZ_TOKEN_FILE: '/home/me/token', MEZZ_TLS_CERT: 'c.pem', MEZZ_TLS_KEY: 'k.pem', MEZZ_TLS_CA: 'ca.pem', MEZZ_MASTER: 'far:5050', MEZZ_LOG_LEVEL: 'debug' };
  assert.deepEqual(frameworkEnv('/d/.mezz/batch-token', shell), { PATH: '/usr/bin', MEZZ_LOG_LEVEL: 'debug', MEZZ_TOKEN_FILE: '/d/.mezz/batch-token' });
});

describe("mezz up's shipped frameworks", () => {
  const opts = { host: '127.0.0.1', port: '5050', agents: '2', dataDir: '.mezz', frameworks: true };

  test('services on :8080, batch on :9000 and functions on :3233 by default, each moved by its own flag; --no-frameworks starts none', () => {
    const ports = (o: object) => validate({ ...opts, ...o }).frameworks.map((f) => [f.fw.name, f.port]);
    assert.deepEqual(ports({}), [[SERVICES, 8080], [BATCH, 9000], [FUNCTIONS, 3233]]);
    assert.deepEqual(ports({ servicesPort: '0', batchPort: '9100', functionsPort: '9200' }), [[SERVICES, 0], [BATCH, 9100], [FUNCTIONS, 9200]]);
    assert.deepEqual(ports({ frameworks: false }), []);
  });

  const refused: { name: string; flags: Record<`${string}Port`, string>; want: string }[] = [
    { name: 'a port out of range names its flag', flags: { batchPort: '70000' }, want: '--batch-port must be 0-65535; got "70000"' },
    { name: 'an empty port names its flag', flags: { servicesPort: '' }, want: '--services-port must be 0-65535; got ""' },
    { name: 'two frameworks on one port: both flags named', flags: { servicesPort: '9000' }, want: '--batch-port 9000 is --services-port too; give each framework its own port (0: any free port)' },
  ];
  for (const c of refused) {
    test(c.name, () => assert.throws(() => validate({ ...opts, ...c.flags }), (err: Error) => err instanceof UsageError && err.message === c.want));
  }
  test('two frameworks may both take any free port', () => {
    assert.deepEqual(validate({ ...opts, servicesPort: '0', batchPort: '0', functionsPort: '0' }).frameworks.map((f) => f.port), [0, 0, 0]);
  });

  test('a port taken names the API and the flag that moves it', () => {
    const batch = FRAMEWORKS.find((fw) => fw.name === BATCH)!;
    assert.equal(portInUse('127.0.0.1', 9000, 'EADDRINUSE', batch),
      'port 9000 on 127.0.0.1 (the batch API) is in use; choose another with --batch-port N (0: any free port), or start no framework with --no-frameworks');
    assert.match(portInUse('0.0.0.0', 80, 'EACCES', FRAMEWORKS[0]!), /^port 80 on 0\.0\.0\.0 \(the services API\) may not be bound by this user; choose another with --services-port N/);
  });
});

describe("mezz up's credentials", () => {
  const dirs: string[] = [];
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
  const fresh = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'mezz-up-creds-'));
    dirs.push(d);
    return d;
  };
  const mode = (f: string) => statSync(f).mode & 0o777;

  test('the first start writes seven files, mode 0600, that agree with each other', async () => {
    const files = await ensureLocalCredentials(fresh(), NAMES);
    assert.deepEqual(allFiles(files).map((f) => path.basename(f)), ['credentials.json', 'acls.json', 'agent-credentials.json', 'token', 'services-token', 'batch-token', 'functions-token']);
    for (const f of allFiles(files)) assert.equal(mode(f), 0o600, f);
    const creds = loadCredentials(files.master);
    assert.deepEqual(creds.map((c) => c.principal), [ADMIN, AGENT, SERVICES, BATCH, FUNCTIONS]);
    assert.equal(readTokenFile(files.token), creds[0]!.secret, 'the token is admin\'s secret');
    assert.deepEqual(loadCredentials(files.agent), [creds[1]]);
    assert.equal(readTokenFile(files.frameworks[SERVICES]!), creds[2]!.secret, 'mezz-services presents its own secret');
    assert.equal(readTokenFile(files.frameworks[BATCH]!), creds[3]!.secret, 'mezz-batch presents its own secret');
    assert.equal(readTokenFile(files.frameworks[FUNCTIONS]!), creds[4]!.secret, 'mezz-functions presents its own secret');
    const acls = Acls.load(files.acls);
    // admin: everything but tasks as root, every framework's API included; agent: registration only;
    // each framework: register and run tasks but not as root, nothing on any API; anyone else: nothing.
    const cases: [string, Action, string, boolean][] = [
      [ADMIN, 'teardown_framework', 'anyone', true], [ADMIN, 'run_task_as', 'nobody', true], [ADMIN, 'run_task_as', 'root', false],
      [ADMIN, 'framework_read', 'services:*', true], [ADMIN, 'framework_write', 'services:/basic-0', true], [ADMIN, 'framework_delete', 'services:/basic-0', true],
      [ADMIN, 'framework_read', 'batch:*', true], [ADMIN, 'framework_write', 'batch:sample', true], [ADMIN, 'framework_delete', 'batch:sample', true],
      [ADMIN, 'framework_read', 'functions:*', true], [ADMIN, 'framework_write', 'functions:guest/hello', true], [ADMIN, 'framework_delete', 'functions:guest/hello', true],
      [AGENT, 'register_agent', '*', true], [AGENT, 'view', '*', false], [AGENT, 'framework_read', 'services:*', false], [AGENT, 'framework_read', 'batch:*', false], [AGENT, 'framework_read', 'functions:*', false],
      ...[SERVICES, BATCH, FUNCTIONS].flatMap((fw): [string, Action, string, boolean][] => [
        [fw, 'register_framework', '*', true], [fw, 'run_task_as', 'nobody', true], [fw, 'run_task_as', 'root', false], [fw, 'run_task_as', '0', false],
        [fw, 'framework_write', 'services:/basic-0', false], [fw, 'framework_write', 'batch:sample', false], [fw, 'framework_write', 'functions:guest/hello', false], [fw, 'view', '*', false], [fw, 'register_agent', '*', false],
      ]),
      ['someone-else', 'view', '*', false],
    ];
    for (const [who, action, object, allowed] of cases) assert.equal(acls.decide(who, action, object).allowed, allowed, `${who} ${action} ${object}`);
  });

  // Data dirs of earlier versions of mezz up: before any framework (admin, agent), before batch (services too), before functions.
  const upgrades = [
    { name: 'a data dir from before the shipped frameworks gets all three', had: [] as string[] },
    { name: 'a data dir from before the batch framework gets batch and functions, and services keeps its secret', had: [SERVICES] },
    { name: 'a data dir from before the function runner gets functions, and services and batch keep their secrets', had: [SERVICES, BATCH] },
  ];
  for (const u of upgrades) {
    test(`${u.name}: principals, token files and rules, and nobody else's rights change`, async () => {
      const dir = fresh();
      const old = [ADMIN, AGENT, ...u.had].map((principal, i) => ({ principal, secret: 'abcd'[i]!.repeat(20) }));
      writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ credentials: old }), { mode: 0o600 });
      const { rules } = localAcls(u.had);
      writeFileSync(path.join(dir, 'acls.json'), JSON.stringify({ default: 'deny', rules }), { mode: 0o600 });
      const before = Acls.load(path.join(dir, 'acls.json'));

      const files = await ensureLocalCredentials(dir, NAMES);
      const creds = loadCredentials(files.master);
      assert.deepEqual(creds.slice(0, old.length), old, 'the principals it had keep their secrets');
      assert.deepEqual(creds.map((c) => c.principal), [ADMIN, AGENT, SERVICES, BATCH, FUNCTIONS]);
      const after = Acls.load(files.acls);
      for (const fw of NAMES) {
        assert.equal(readTokenFile(files.frameworks[fw]!), creds.find((c) => c.principal === fw)!.secret, `${fw}-token`);
        assert.equal(after.decide(fw, 'register_framework', '*').allowed, true, `${fw} may register`);
        assert.equal(after.decide(fw, 'run_task_as', 'root').allowed, false, `${fw} may not run tasks as root`);
      }
      const others = [[ADMIN, 'run_task_as', 'root'], [ADMIN, 'framework_write', 'services:/x'], [ADMIN, 'framework_write', 'batch:x'], [AGENT, 'register_agent', '*'], [AGENT, 'view', '*'],
        ...u.had.map((fw) => [fw, 'run_task_as', 'nobody'])] as [string, Action, string][];
      for (const [who, action, object] of others) {
        assert.equal(after.decide(who, action, object).allowed, before.decide(who, action, object).allowed, `${who} ${action} ${object}`);
      }
      const ruleCount = (f: string) => (JSON.parse(readFileSync(f, 'utf8')) as { rules: unknown[] }).rules.length;
      assert.equal(ruleCount(files.acls), rules.length + 2 * (NAMES.length - u.had.length), 'two rules per framework added, none twice');
      for (const f of allFiles(files)) assert.equal(mode(f), 0o600, f);

      // Done once: the next start changes nothing.
      const written = allFiles(files).map((f) => readFileSync(f, 'utf8'));
      await ensureLocalCredentials(dir, NAMES);
      assert.deepEqual(allFiles(files).map((f) => readFileSync(f, 'utf8')), written);
    });
  }

  test('rules an operator already wrote for services are kept; batch, unnamed, gets its own', async () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ credentials: [{ principal: ADMIN, secret: 'a'.repeat(20) }, { principal: AGENT, secret: 'b'.repeat(20) }] }));
    const own = JSON.stringify({ rules: [{ principals: [SERVICES], actions: ['register_framework'], objects: ['web'] }] });
    writeFileSync(path.join(dir, 'acls.json'), own);
    const files = await ensureLocalCredentials(dir, NAMES);
    const acls = Acls.load(files.acls);
    assert.equal(acls.decide(SERVICES, 'register_framework', 'web').allowed, true, "the operator's rule for services");
    assert.equal(acls.decide(SERVICES, 'register_framework', '*').allowed, false, 'no default services rule added beside it');
    assert.equal(acls.decide(BATCH, 'register_framework', '*').allowed, true, 'batch, which no rule named, gets its rules');
    assert.deepEqual(loadCredentials(files.master).map((c) => c.principal), [ADMIN, AGENT, SERVICES, BATCH, FUNCTIONS]);
  });

  test('a restart re-uses them; the derived files are rewritten from credentials.json and tightened to 0600', async () => {
    const dir = fresh();
    const first = await ensureLocalCredentials(dir, NAMES);
    const secrets = readFileSync(first.master, 'utf8');
    writeFileSync(first.acls, '{"rules": []}');
    rmSync(first.token);
    chmodSync(first.agent, 0o644);
    const second = await ensureLocalCredentials(dir, NAMES);
    assert.equal(readFileSync(second.master, 'utf8'), secrets, 'the same secrets');
    assert.equal(readFileSync(second.acls, 'utf8'), '{"rules": []}', "an operator's ACLs stay as they are");
    assert.equal(readTokenFile(second.token), loadCredentials(second.master)[0]!.secret);
    for (const f of allFiles(second)) assert.equal(mode(f), 0o600, f);
  });

  test('a credentials file without admin or agent is refused, naming what to do', async () => {
    const dir = fresh();
    writeFileSync(path.join(dir, 'credentials.json'), JSON.stringify({ credentials: [{ principal: 'ops', secret: 'x'.repeat(20) }] }));
    await assert.rejects(ensureLocalCredentials(dir, NAMES), /has no principal admin or agent.*delete the file/);
  });
});

describe('refusals say what to do', () => {
  const refused = (code: grpc.status, details: string) =>
    new CliError(`${grpc.status[code]}: ${details}`, 1, { cause: Object.assign(new Error(details), { code, details }) });
  const cases = [
    { name: 'no token: where mezz looks', err: refused(grpc.status.UNAUTHENTICATED, 'requires authentication'), source: undefined, want: /found none: pass --token, set MEZZ_TOKEN or MEZZ_TOKEN_FILE.*\.\/\.mezz\/token/ },
    { name: 'a wrong token: which one was sent', err: refused(grpc.status.UNAUTHENTICATED, 'the token presented is not valid'), source: 'MEZZ_TOKEN', want: /not valid; mezz sent the token from MEZZ_TOKEN/ },
    { name: 'a missing permission: where it is granted', err: refused(grpc.status.PERMISSION_DENIED, 'principal ops may not kill_task'), source: '--token', want: /may not kill_task; use the token of a principal that may, or allow it in the master's --acls file/ },
    { name: 'anything else: unchanged', err: refused(grpc.status.NOT_FOUND, 'task t is not known'), source: '--token', want: /^NOT_FOUND: task t is not known$/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const out = explainRefusal(c.err, c.source) as CliError;
      assert.match(out.message, c.want);
      assert.equal(out.message.includes('\n'), false, 'one line');
    });
  }
});

describe('agentResources', () => {
  test('agents on one machine get disjoint slices of its ports, whatever else is detected or given', () => {
    assert.equal(agentResources(undefined, 0, 2), 'ports:[31000-31499]');
    assert.equal(agentResources(undefined, 1, 2), 'ports:[31500-31999]');
    assert.equal(agentResources('cpus:2;mem:1024', 2, 3), 'cpus:2;mem:1024;ports:[31666-31998]');
    assert.equal(agentResources('cpus:1;ports:[40000-40010]', 1, 2), 'cpus:1;ports:[40000-40010]', 'ports the operator names are kept');
  });
});
