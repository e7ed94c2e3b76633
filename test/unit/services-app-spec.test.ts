import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Offer } from '../../lib/proto';
import {
  appEnvironment,
  appPlacement,
  invalidBody,
  mergeApp,
  parseApp,
  resolveAppId,
  toSdkConstraint,
  type App,
  type FieldErrors,
} from '../../frameworks/services';

const EXAMPLES = fileURLToPath(new URL('../../examples/services/', import.meta.url));

/** The app, or a failure that shows the errors. */
function ok(body: unknown): App {
  const r = parseApp(body);
  assert.ok(r.app, `expected an app, got ${JSON.stringify(r.errors)}`);
  return r.app;
}

/** The errors, or a failure. */
function refused(body: unknown, opts?: { partial?: false; base?: string }): FieldErrors[] {
  const r = parseApp(body, opts);
  assert.ok(r.errors, `expected errors, got ${JSON.stringify(r.app)}`);
  return r.errors;
}

/** The messages at `path`, joined, or a failure naming the paths there are. */
function at(errors: FieldErrors[], path: string): string {
  const hit = errors.find((e) => e.path === path);
  assert.ok(hit, `no error at ${path}; errors: ${JSON.stringify(errors)}`);
  return hit.errors.join('; ');
}

const minimal = { id: '/web', cmd: 'python3 -m http.server $PORT0' };

describe('services app spec: defaults', () => {
  it("applies Marathon's defaults to a minimal app", () => {
    const app = ok(minimal);
    assert.deepEqual(app, {
      id: '/web',
      cmd: 'python3 -m http.server $PORT0',
      cpus: 1,
      mem: 128,
      disk: 0,
      gpus: 0,
      instances: 1,
      env: {},
      labels: {},
      fetch: [],
      constraints: [],
      healthChecks: [],
      readinessChecks: [],
      portDefinitions: [{ port: 0, protocol: 'tcp', name: 'default', labels: {} }],
      requirePorts: false,
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      backoffSeconds: 1,
      backoffFactor: 1.15,
      maxLaunchDelaySeconds: 300,
      killSelection: 'YOUNGEST_FIRST',
      unreachableStrategy: { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 },
      dependencies: [],
    });
  });

  it('fills health-check defaults per protocol: path only for HTTP kinds, portIndex 0 unless a port or COMMAND', () => {
    const app = ok({
      ...minimal,
      healthChecks: [{}, { protocol: 'TCP' }, { protocol: 'COMMAND', command: { value: 'true' } }, { protocol: 'MESOS_HTTP', port: 8080 }],
    });
    const common = { gracePeriodSeconds: 300, intervalSeconds: 60, timeoutSeconds: 20, maxConsecutiveFailures: 3, delaySeconds: 15, ignoreHttp1xx: false, ipProtocol: 'IPv4' };
    assert.deepEqual(app.healthChecks, [
      { protocol: 'HTTP', path: '/', portIndex: 0, ...common },
      { protocol: 'TCP', portIndex: 0, ...common },
      { protocol: 'COMMAND', command: { value: 'true' }, ...common },
      { protocol: 'MESOS_HTTP', path: '/', port: 8080, ...common },
    ]);
  });

  it('fills readiness-check, check and partial upgradeStrategy defaults', () => {
    const app = ok({
      ...minimal,
      portDefinitions: [{ port: 0, name: 'http-api' }],
      readinessChecks: [{}],
      check: { tcp: {} },
      upgradeStrategy: { minimumHealthCapacity: 0.5 },
      unreachableStrategy: 'disabled',
    });
    assert.deepEqual(app.readinessChecks, [
      { name: 'readinessCheck', protocol: 'HTTP', path: '/', portName: 'http-api', intervalSeconds: 30, timeoutSeconds: 10, httpStatusCodesForReady: [200], preserveLastResponse: false },
    ]);
    assert.deepEqual(app.check, { tcp: {}, intervalSeconds: 60, timeoutSeconds: 20, delaySeconds: 15 });
    assert.deepEqual(app.upgradeStrategy, { minimumHealthCapacity: 0.5, maximumOverCapacity: 1 });
    assert.equal(app.unreachableStrategy, 'disabled');
    assert.deepEqual(app.portDefinitions, [{ port: 0, protocol: 'tcp', name: 'http-api', labels: {} }]);
  });

  it('folds the deprecated uris into fetch (archives extracted) and ports into portDefinitions', () => {
    const app = ok({ ...minimal, uris: ['https://x/app.tgz', 'https://x/run.sh'], ports: [0, 2001] });
    assert.deepEqual(app.fetch, [
      { uri: 'https://x/app.tgz', extract: true, executable: false, cache: false },
      { uri: 'https://x/run.sh', extract: false, executable: false, cache: false },
    ]);
    assert.deepEqual(app.portDefinitions, [
      { port: 0, protocol: 'tcp', labels: {} },
      { port: 2001, protocol: 'tcp', labels: {} },
    ]);
  });
});

describe('services app spec: every documented field is accepted', () => {
  it('parses an app that sets every field', () => {
    const app = ok({
      id: 'shop/web',
      args: ['python3', '-m', 'http.server', '8080'],
      user: 'nobody',
      cpus: 0.5,
      mem: 64,
      disk: 10,
      gpus: 1,
      instances: 3,
      env: { MODE: 'prod' },
      labels: { team: 'shop' },
      fetch: [{ uri: 'https://x/a.zip', extract: false, executable: true, cache: true, destPath: 'a' }],
      constraints: [['@hostname', 'UNIQUE'], ['@zone', 'GROUP_BY', '3'], ['@region', 'IS', 'eu'], ['rack', 'LIKE', 'r[1-3]'], ['rack', 'UNLIKE', 'r9'], ['rack', 'MAX_PER', '2'], ['rack', 'CLUSTER']],
      healthChecks: [
        { protocol: 'HTTPS', path: '/health', portIndex: 1, gracePeriodSeconds: 5, intervalSeconds: 10, timeoutSeconds: 5, maxConsecutiveFailures: 0, delaySeconds: 1, ignoreHttp1xx: true, ipProtocol: 'IPv4' },
        { protocol: 'MESOS_TCP', port: 8080 },
      ],
      readinessChecks: [{ name: 'ready', protocol: 'HTTP', path: '/ready', portName: 'http', intervalSeconds: 5, timeoutSeconds: 2, httpStatusCodesForReady: [200, 204], preserveLastResponse: true }],
      check: { http: { portIndex: 0, path: '/', scheme: 'HTTP' }, intervalSeconds: 10, timeoutSeconds: 5, delaySeconds: 1 },
      portDefinitions: [
        { port: 0, protocol: 'tcp', name: 'http', labels: { VIP_0: '10.0.0.1:80' } },
        { port: 10001, protocol: 'udp,tcp', name: 'admin' },
      ],
      requirePorts: false,
      networks: [{ mode: 'host' }],
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.2 },
      backoffSeconds: 2,
      backoffFactor: 2,
      maxLaunchDelaySeconds: 60,
      taskKillGracePeriodSeconds: 30,
      killSelection: 'OLDEST_FIRST',
      unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 120 },
      dependencies: ['db', '/cache'],
      role: 'shop',
      acceptedResourceRoles: ['*', 'shop'],
      executor: '//cmd',
    });
    assert.equal(app.id, '/shop/web');
    // Dependencies resolve against the app's group, as Marathon's do.
    assert.deepEqual(app.dependencies, ['/shop/db', '/cache']);
    assert.deepEqual(app.args, ['python3', '-m', 'http.server', '8080']);
    assert.equal(app.cmd, undefined);
  });

  it('parses every Marathon example in examples/services unchanged', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 4, `only ${files.length} examples`);
    for (const file of files) {
      const r = parseApp(readFileSync(join(EXAMPLES, file), 'utf8'));
      assert.ok(r.app, `${file}: ${JSON.stringify(r.errors)}`);
      assert.ok(r.app.id.startsWith('/'), file);
    }
  });

  it('keeps what the documented examples say', () => {
    const read = (f: string) => ok(readFileSync(join(EXAMPLES, f), 'utf8'));
    const toggle = read('toggle-http-health.json');
    assert.equal(toggle.healthChecks[0]?.path, '/health');
    assert.deepEqual(toggle.portDefinitions, [{ port: 0, protocol: 'tcp', labels: {} }]);
    assert.deepEqual(read('sleep-group-by.json').constraints, [['rack_id', 'GROUP_BY', '3']]);
    assert.equal(read('http-index-test.json').portDefinitions[0]?.name, 'http');
    assert.equal(read('basic-0.json').id, '/basic-0');
  });
});

describe('services app spec: refusals name the field', () => {
  it('a typo is refused with its path, at any depth', () => {
    const errors = refused({ ...minimal, instaces: 2, healthChecks: [{ protocl: 'HTTP' }] });
    assert.match(at(errors, '/instaces'), /unknown field/);
    assert.match(at(errors, '/healthChecks/0/protocl'), /unknown field/);
  });

  it('more health checks than a task may carry are refused, naming the limit', () => {
    const errors = refused({ ...minimal, healthChecks: Array.from({ length: 9 }, () => ({ protocol: 'TCP' })) });
    assert.match(at(errors, '/healthChecks'), /8/);
  });

  it('status fields a GET adds are named as such when sent back', () => {
    assert.match(at(refused({ ...minimal, tasksRunning: 2, versionInfo: {} }), '/tasksRunning'), /GET \/v2\/apps adds/);
  });

  it('minimumHealthCapacity at the top level is refused, pointing to upgradeStrategy', () => {
    const errors = refused({ ...minimal, minimumHealthCapacity: 0.5 });
    assert.equal(errors.length, 1);
    assert.match(at(errors, '/minimumHealthCapacity'), /belongs in \/upgradeStrategy/);
  });

  it('a container, residency or secrets is refused as not supported, by name', () => {
    const errors = refused({ ...minimal, container: { type: 'DOCKER', docker: { image: 'nginx' } }, residency: {}, secrets: {}, env: { A: 'x' } });
    assert.match(at(errors, '/container'), /^not supported: .*Docker/);
    assert.match(at(errors, '/residency'), /^not supported/);
    assert.match(at(errors, '/secrets'), /^not supported/);
    assert.match(at(refused({ ...minimal, env: { DB: { secret: 'db-pass' } } }), '/env/DB'), /^not supported: secrets/);
    assert.match(at(refused({ ...minimal, networks: [{ mode: 'container/bridge' }] }), '/networks/0/mode'), /^not supported: only host networking/);
    assert.match(at(refused({ ...minimal, executor: '/opt/my-executor' }), '/executor'), /^not supported: only the command executor/);
  });

  it('cmd and args together, or neither, are refused', () => {
    assert.match(at(refused({ ...minimal, args: ['x'] }), '/'), /cmd or args, not both/);
    assert.match(at(refused({ id: '/web' }), '/'), /give cmd or args/);
    // Marathon omits an empty args: cmd with args [] is fine.
    assert.equal(ok({ ...minimal, args: [] }).cmd, minimal.cmd);
  });

  it('negative or out-of-range resources and counts are refused with the limit', () => {
    const errors = refused({ ...minimal, cpus: -1, mem: -5, disk: -1, gpus: 0.5, instances: -1 });
    assert.match(at(errors, '/cpus'), />= 0.001/);
    assert.match(at(errors, '/mem'), />= 0/);
    assert.match(at(errors, '/disk'), />= 0/);
    assert.match(at(errors, '/gpus'), /integer/);
    assert.match(at(errors, '/instances'), />= 0/);
    assert.match(at(refused({ ...minimal, upgradeStrategy: { minimumHealthCapacity: 1.5 } }), '/upgradeStrategy/minimumHealthCapacity'), /<= 1/);
    assert.match(at(refused({ ...minimal, backoffFactor: 0.5 }), '/backoffFactor'), />= 1/);
  });

  it('impossible constraints are refused with the SDK reason', () => {
    const errors = refused({
      ...minimal,
      constraints: [['rack', 'NEAR'], ['rack', 'GROUP_BY', 'three'], ['rack', 'LIKE', '('], ['hostname', 'UNIQUE', 'x'], ['@datacenter', 'UNIQUE'], ['rack', 'MAX_PER']],
    });
    assert.match(at(errors, '/constraints/0'), /unknown operator "NEAR"/);
    assert.match(at(errors, '/constraints/1'), /GROUP_BY takes a whole number/);
    assert.match(at(errors, '/constraints/2'), /not a valid regular expression/);
    assert.match(at(errors, '/constraints/3'), /UNIQUE takes no value/);
    assert.match(at(errors, '/constraints/4'), /@hostname, @zone and @region/);
    assert.match(at(errors, '/constraints/5'), /MAX_PER takes a whole number/);
    assert.match(at(refused({ ...minimal, constraints: [['rack']] }), '/constraints/0'), /\[field, operator\]/);
  });

  it('ids follow Marathon path rules; climbing above the root is refused', () => {
    const cases: { id: string; base?: string; want: string }[] = [
      { id: 'web', want: '/web' },
      { id: '/shop/web/', want: '/shop/web' },
      { id: 'web', base: '/shop', want: '/shop/web' },
      { id: '../db', base: '/shop/web', want: '/shop/db' },
      { id: 'web.v2', want: '/web.v2' },
    ];
    for (const c of cases) assert.deepEqual(resolveAppId(c.id, c.base), { id: c.want }, c.id);
    for (const bad of ['/Web', '/-web', '/web-', '/a..b', '/a_b', '/..', '/../x', '/']) {
      assert.ok('error' in resolveAppId(bad), bad);
    }
    assert.match(at(refused({ ...minimal, id: '/../escape' }), '/id'), /climbs above the root/);
    assert.match(at(refused({ ...minimal, id: '/Shop' }), '/id'), /lowercase/);
  });

  it('checks must address a port, and names and ports must be unique', () => {
    const errors = refused({
      ...minimal,
      portDefinitions: [{ port: 80, name: 'http' }, { port: 80, name: 'http' }],
      healthChecks: [{ portIndex: 2 }, { protocol: 'COMMAND' }, { protocol: 'TCP', path: '/x' }],
      readinessChecks: [{ portName: 'nope', timeoutSeconds: 40 }],
    });
    assert.match(at(errors, '/portDefinitions/1/name'), /unique/);
    assert.match(at(errors, '/portDefinitions/1/port'), /unique/);
    assert.match(at(errors, '/healthChecks/0/portIndex'), /does not address/);
    assert.match(at(errors, '/healthChecks/1/command'), /needs command/);
    assert.match(at(errors, '/healthChecks/2/path'), /only HTTP/);
    assert.match(at(errors, '/readinessChecks/0/portName'), /no port definition is named nope/);
    assert.match(at(errors, '/readinessChecks/0/timeoutSeconds'), /less than intervalSeconds/);
  });

  it('requirePorts needs every port a number: port 0, or no ports at all, is refused at its path', () => {
    assert.match(at(refused({ ...minimal, requirePorts: true, portDefinitions: [{ port: 8080 }, { port: 0 }] }), '/portDefinitions/1/port'), /requirePorts is true.*not 0/);
    assert.match(at(refused({ ...minimal, requirePorts: true, ports: [0] }), '/ports/0/port'), /not 0/);
    assert.match(at(refused({ ...minimal, requirePorts: true }), '/requirePorts'), /no ports are given/);
    assert.deepEqual(ok({ ...minimal, requirePorts: true, portDefinitions: [{ port: 8080 }] }).portDefinitions.map((p) => p.port), [8080]);
    // In an update the rule runs on the merged app: the stored app's port 0 is refused.
    assert.match(at(mergeApp(ok(minimal), { requirePorts: true }).errors ?? [], '/portDefinitions/0/port'), /not 0/);
  });

  it("acceptedResourceRoles: not empty, and only * and the app's role when the app names one", () => {
    assert.match(at(refused({ ...minimal, acceptedResourceRoles: [] }), '/acceptedResourceRoles'), /at least one role/);
    assert.match(at(refused({ ...minimal, role: 'prod', acceptedResourceRoles: ['*', 'dev'] }), '/acceptedResourceRoles/1'), /can only contain \* and the app's role prod; got dev/);
    assert.deepEqual(ok({ ...minimal, role: 'prod', acceptedResourceRoles: ['prod', '*'] }).acceptedResourceRoles, ['prod', '*']);
    assert.deepEqual(ok({ ...minimal, acceptedResourceRoles: ['slave_public'] }).acceptedResourceRoles, ['slave_public']);
  });

  it('bad text is refused as neither JSON nor YAML; a non-object as not an app', () => {
    assert.match(at(refused('{"id": "/web", cmd: [}'), '/'), /neither JSON nor YAML/);
    assert.match(at(refused([minimal]), '/'), /JSON object/);
  });

  it("builds Marathon's 422 body", () => {
    assert.deepEqual(invalidBody([{ path: '/cpus', errors: ['must be >= 0.001'] }]), {
      message: 'Object is not valid',
      details: [{ path: '/cpus', errors: ['must be >= 0.001'] }],
    });
  });
});

describe('services app spec: YAML', () => {
  it('the YAML form of an app parses the same as its JSON', () => {
    const json = readFileSync(join(EXAMPLES, 'toggle-http-health.json'), 'utf8');
    const yaml = `
id: toggle
cmd: python toggle.py $PORT0
cpus: 0.2
disk: 0.0
healthChecks:
  - protocol: HTTP
    path: /health
    portIndex: 0
    gracePeriodSeconds: 5
    intervalSeconds: 10
    timeoutSeconds: 10
    maxConsecutiveFailures: 3
instances: 2
mem: 32.0
ports: [0]
fetch:
  - uri: http://downloads.mesosphere.com/misc/toggle.tgz
`;
    assert.deepEqual(ok(yaml), ok(json));
  });
});

describe('services app spec: partial updates (PUT)', () => {
  const stored = ok({ ...minimal, instances: 2, env: { A: '1' }, upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } });

  it('replaces the fields given and keeps the rest', () => {
    const update = parseApp({ instances: 5, env: { B: '2' } }, { partial: true });
    assert.ok(update.app);
    const merged = mergeApp(stored, update.app);
    assert.ok(merged.app, JSON.stringify(merged.errors));
    assert.equal(merged.app.instances, 5);
    assert.deepEqual(merged.app.env, { B: '2' }, 'env is replaced whole, as in Marathon');
    assert.equal(merged.app.cmd, minimal.cmd);
    assert.deepEqual(merged.app.upgradeStrategy, { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 });
  });

  it('rules across fields are checked on the merged app, not the update alone', () => {
    const twoPorts = ok({ ...minimal, portDefinitions: [{ port: 0 }, { port: 0 }] });
    const update = parseApp({ healthChecks: [{ protocol: 'TCP', portIndex: 1 }] }, { partial: true });
    assert.ok(update.app, JSON.stringify(update.errors));
    assert.equal(mergeApp(twoPorts, update.app).app?.healthChecks[0]?.portIndex, 1);
    const merged = mergeApp(stored, { healthChecks: [{ protocol: 'TCP', portIndex: 1 }] });
    assert.match(at(merged.errors ?? [], '/healthChecks/0/portIndex'), /does not address one of the app's 1 ports/);
  });

  it('a partial upgradeStrategy replaces the stored one; its missing fields take defaults', () => {
    const merged = mergeApp(stored, { upgradeStrategy: { maximumOverCapacity: 0.5 } });
    assert.deepEqual(merged.app?.upgradeStrategy, { minimumHealthCapacity: 1, maximumOverCapacity: 0.5 });
  });

  it('a partial body is checked field by field: typos and bad values are refused', () => {
    const r = parseApp({ instanses: 5, cpus: 0 }, { partial: true });
    assert.ok(r.errors);
    assert.match(at(r.errors, '/instanses'), /unknown field/);
    assert.match(at(r.errors, '/cpus'), />= 0.001/);
  });

  it('args onto an app with cmd is refused, as Marathon does, unless cmd is dropped', () => {
    const merged = mergeApp(stored, { args: ['sleep', '1'] });
    assert.ok(merged.errors);
    assert.match(at(merged.errors, '/'), /not both/);
    const fromArgs = ok({ id: '/w', args: ['sleep', '1'] });
    assert.equal(mergeApp(fromArgs, { cmd: 'sleep 2', args: [] }).app?.cmd, 'sleep 2');
  });

  it('version may only come with id: it asks for a rollback', () => {
    assert.ok(parseApp({ version: '2015-04-02T09:37:00.596Z' }, { partial: true }).app);
    const r = parseApp({ version: '2015-04-02T09:37:00.596Z', instances: 2 }, { partial: true });
    assert.match(at(r.errors ?? [], '/version'), /only be combined with id/);
  });
});

describe('services app spec: constraints go to the SDK', () => {
  it('@zone and @region read the zone and region attributes', () => {
    assert.deepEqual(toSdkConstraint(['@zone', 'GROUP_BY', '2']), ['zone', 'GROUP_BY', '2']);
    assert.deepEqual(toSdkConstraint(['@region', 'IS', 'eu']), ['region', 'IS', 'eu']);
    assert.deepEqual(toSdkConstraint(['@hostname', 'UNIQUE']), ['@hostname', 'UNIQUE']);
  });

  it("an app's constraints become one placement predicate", () => {
    const app = ok({ ...minimal, constraints: [['hostname', 'UNIQUE'], ['@zone', 'IS', 'a']] });
    const where = appPlacement(app);
    const agent = (host: string, zone: string): Offer => ({ id: `o-${host}`, agentId: `a-${host}`, hostname: host, attributes: [{ name: 'zone', text: zone }], resources: [] });
    assert.deepEqual(where(agent('h1', 'a'), []), { ok: true });
    assert.deepEqual(where(agent('h1', 'a'), [agent('h1', 'a')]), { ok: false, reason: 'hostname:UNIQUE: hostname=h1 already has 1 task' });
    assert.deepEqual(where(agent('h2', 'b'), []), { ok: false, reason: 'zone:IS:a: zone=b' });
  });
});

describe('services app env', () => {
  const task = { taskId: 'shop_web.5c4e-1', version: '2015-04-02T09:37:00.596Z' };

  it("sets Marathon's variables: ports by index and name, host, app and task metadata", () => {
    const app = ok({
      id: '/shop/web',
      cmd: 'x',
      cpus: 0.5,
      labels: { team: 'shop', 'owner.name': 'zeus' },
      env: { MODE: 'prod' },
      portDefinitions: [{ port: 10000, name: 'http' }, { port: 0 }, { port: 10002, name: 'admin-api' }],
    });
    const env = appEnvironment(app, task, 'agent-1.example', [31001, 31002, 31003]);
    assert.deepEqual(env, {
      MESOS_TASK_ID: 'shop_web.5c4e-1',
      MARATHON_APP_ID: '/shop/web',
      MARATHON_APP_VERSION: '2015-04-02T09:37:00.596Z',
      MARATHON_APP_RESOURCE_CPUS: '0.5',
      MARATHON_APP_RESOURCE_MEM: '128.0',
      MARATHON_APP_RESOURCE_DISK: '0.0',
      MARATHON_APP_RESOURCE_GPUS: '0',
      MARATHON_APP_LABELS: 'TEAM OWNER_NAME',
      MARATHON_APP_LABEL_TEAM: 'shop',
      MARATHON_APP_LABEL_OWNER_NAME: 'zeus',
      PORT: '31001',
      PORT0: '31001',
      PORT1: '31002',
      PORT2: '31003',
      PORTS: '31001,31002,31003',
      // PORT_<declared port> → host port; a port 0 names itself (EnvironmentHelper.portsEnv).
      PORT_10000: '31001',
      PORT_31002: '31002',
      PORT_10002: '31003',
      PORT_HTTP: '31001',
      'PORT_ADMIN-API': '31003',
      HOST: 'agent-1.example',
      MODE: 'prod',
    });
  });

  it("the app's env overrides Marathon's variables; no ports, no port variables", () => {
    const app = ok({ ...minimal, env: { HOST: 'pinned', PORT: '80' }, portDefinitions: [] });
    const env = appEnvironment(app, task, 'agent-1', []);
    assert.equal(env.HOST, 'pinned');
    assert.equal(env.PORT, '80');
    assert.equal(env.PORT0, undefined);
    assert.equal(env.PORTS, undefined);
  });
});
