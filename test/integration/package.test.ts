/**
 * Mezzanine as another project sees it: `npm pack` the repository (which
 * builds dist/ through `prepare`), install the tarball into a project in the
 * OS's temporary directory, and use `mezzanine/sdk` from there — a framework
 * run with plain `node` against a real master and agent, its TypeScript
 * checked under both module resolutions a consumer may use, and the bins.
 *
 * No network: `npm ci --offline` in the consumer reads npm's cache, which the
 * repository's own `npm ci` filled. A plain `npm install <tarball>` would
 * need the registry's package metadata (npm ci never caches it), so the
 * consumer gets a lockfile made of the tarball and the repository's locked
 * non-dev packages: the tree `npm ci` installs here, less the dev tools.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { Cluster, ROOT, waitFor } from '../harness';

const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** The environment of a user's shell: no npm script variables of this run, no loader flags (plain `node`). */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^(npm_(package|lifecycle)_|npm_config_local_prefix$|INIT_CWD$|NODE_OPTIONS$)/.test(k)) delete env[k];
  }
  return env;
}

/** Runs a command to its end; throws with its output when it fails (unless `mayFail`). */
function run(cmd: string, args: string[], cwd: string, opts: { mayFail?: boolean; timeoutMs?: number } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: userEnv(), encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}\n${output}`);
  if (r.status !== 0 && !opts.mayFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${output.slice(-4000)}`);
  return { status: r.status, stdout: r.stdout, output };
}

let work: string;
let app: string;
/** What `npm pack` put in the tarball. */
let packedFiles: string[] = [];
const timings: string[] = [];

/** Packs the repository into `work` and installs the tarball into `work/app`, offline. */
function packAndInstall(): void {
  work = realpathSync(mkdtempSync(path.join(tmpdir(), 'mezz-package-')));
  app = path.join(work, 'app');
  mkdirSync(app);
  let t0 = Date.now();
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], ROOT).stdout) as { filename: string; files: { path: string }[] }[];
  timings.push(`pack (with build) ${Date.now() - t0} ms`);
  packedFiles = packed[0]!.files.map((f) => f.path);
  const tarball = `file:../${packed[0]!.filename}`;
  const root = { name: 'outside', version: '1.0.0', type: 'module', dependencies: { mezzanine: tarball } };
  writeFileSync(path.join(app, 'package.json'), JSON.stringify(root, null, 2));
  writeFileSync(path.join(app, 'package-lock.json'), JSON.stringify(consumerLock(root, tarball), null, 2));
  t0 = Date.now();
  try {
    run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--no-update-notifier'], app);
  } catch (err) {
    throw new Error(`installing the tarball offline failed; npm's cache must hold every dependency (run 'npm ci' in the repository first): ${(err as Error).message}`);
  }
  timings.push(`offline install ${Date.now() - t0} ms`);
}

/** The consumer's lockfile: the tarball, and the packages this repository locks for production, where they lie here. */
function consumerLock(root: { name: string; version: string; dependencies: Record<string, string> }, tarball: string) {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const packages: Record<string, unknown> = {
    '': { name: root.name, version: root.version, dependencies: root.dependencies },
    'node_modules/mezzanine': { version: pkg.version, resolved: tarball, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines, license: pkg.license },
  };
  for (const [where, entry] of Object.entries(lock.packages)) if (where && !entry.dev) packages[where] = entry;
  return { name: root.name, version: root.version, lockfileVersion: 3, requires: true, packages };
}

before(packAndInstall);
after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  console.log(`# package.test timings: ${timings.join(', ')}`);
});

const FRAMEWORK = `
import { connectFramework, isTerminal, pack } from 'mezzanine/sdk';

const [master, count] = [process.argv[2], Number(process.argv[3])];
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const fw = await connectFramework({ master, name: 'outside', logger: quiet, connectTimeout: '20s' });
console.log('sdk', import.meta.resolve('mezzanine/sdk'));
console.log('subscribed', fw.frameworkId);
let wanted = count;
fw.on('offers', (offers) => {
  const plan = pack(offers, wanted, { cpus: 0.1, mem: 32 }, (i) => ({
    taskId: \`outside-\${count - wanted + i}\`, command: { value: 'echo hello', shell: true },
  }));
  fw.launchAll(plan, { refuseSeconds: 0 });
  wanted = plan.remaining;
  if (!wanted) fw.suppress();
});
const finished = new Set();
fw.on('update', async (s) => {
  console.log('update', s.taskId, s.state);
  if (s.state === 'TASK_FINISHED') finished.add(s.taskId);
  else if (isTerminal(s.state)) process.exitCode = 1;
  if (finished.size === count || process.exitCode) {
    await fw.teardown();
    console.log('done');
  }
});
`;

describe('Mezzanine installed from its npm pack tarball, outside the repository', () => {
  let c: Cluster | undefined;
  let framework: ReturnType<typeof spawn> | undefined;
  afterEach(async () => {
    if (framework && framework.exitCode === null && framework.signalCode === null) {
      try {
        process.kill(-framework.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    framework = undefined;
    await c?.teardown();
    c = undefined;
  });

  test('the tarball holds the built SDK and the .proto files it loads, and no tests', () => {
    for (const f of ['dist/sdk.js', 'dist/sdk.d.ts', 'proto/mezzanine/v1/scheduler.proto', 'bin/mezz.mjs', 'README.md']) {
      assert.ok(packedFiles.includes(f), `${f} is not in the tarball`);
    }
    assert.deepEqual(packedFiles.filter((f) => /^(test|bench|examples|node_modules)\//.test(f)), []);
  });

  test('a framework imports mezzanine/sdk under plain node, subscribes, launches and sees its tasks finish', async () => {
    c = new Cluster();
    const master = await c.startMaster();
    await c.startAgent(master.address);
    writeFileSync(path.join(app, 'framework.mjs'), FRAMEWORK);
    const t0 = Date.now();
    framework = spawn(process.execPath, ['framework.mjs', master.address, '3'], { cwd: app, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    framework.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    framework.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    let closed = false;
    framework.on('close', () => (closed = true));
    await waitFor('the framework to exit', () => closed, 40_000).catch((err: Error) => assert.fail(`${err.message}; its output:\n${out}`));
    timings.push(`framework run ${Date.now() - t0} ms`);
    assert.equal(framework.exitCode, 0, out);
    assert.match(out, new RegExp(`^sdk file://${app}/node_modules/mezzanine/dist/sdk\\.js$`, 'm'), 'the SDK came from the installed package');
    assert.match(out, /^subscribed \S+/m);
    for (let i = 0; i < 3; i++) assert.match(out, new RegExp(`^update outside-${i} TASK_FINISHED$`, 'm'), out);
    assert.match(out, /^done$/m);
  });

  test('a value the bundled types declare is a value the bundle exports', () => {
    // The .d.ts is rolled up separately from the JS: a name it exports as a value
    // (a class, say) that the JS lacks would compile and then fail at import.
    const dts = readFileSync(path.join(app, 'node_modules/mezzanine/dist/sdk.d.ts'), 'utf8');
    const declared = [...dts.matchAll(/^export \{([^}]*)\};$/gm)].flatMap((m) => m[1]!.split(',')).map((s) => s.trim().split(/\s+as\s+/).pop()!).filter(Boolean).sort();
    const script = "import('mezzanine/sdk').then((m) => console.log(JSON.stringify(Object.keys(m).sort())))";
    const exported = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script], app).stdout) as string[];
    assert.ok(declared.length > 5, `no value exports found in sdk.d.ts:\n${dts.slice(-2000)}`);
    assert.deepEqual(declared, exported);
  });

  for (const resolution of ['nodenext', 'bundler'] as const) {
    test(`TypeScript with moduleResolution ${resolution} sees the SDK's types: a correct file passes, a mistake is reported`, () => {
      const dir = path.join(app, `ts-${resolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'good.ts'), [
        "import { connectFramework, pack, type Framework, type TaskState, type TaskStatus__Output } from 'mezzanine/sdk';",
        "export async function start(): Promise<Framework> {",
        "  const fw = await connectFramework({ master: '127.0.0.1:5050', name: 'typed', failoverTimeout: '1h' });",
        "  fw.on('offers', (offers) => fw.launchAll(pack(offers, 1, { cpus: 0.1, mem: 32 }, (i) => ({ taskId: `t-${i}`, command: { value: 'true' } }))));",
        "  fw.on('update', (s: TaskStatus__Output) => { const state: TaskState = s.state; console.log(state); });",
        '  return fw;',
        '}',
      ].join('\n'));
      writeFileSync(path.join(dir, 'bad.ts'), [
        "import { connectFramework, type TaskState } from 'mezzanine/sdk';",
        "export const state: TaskState = 'TASK_DONE';",
        "export const fw = connectFramework({ master: 5050, name: 'typed' });",
      ].join('\n'));
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: resolution === 'nodenext' ? 'nodenext' : 'esnext', moduleResolution: resolution,
          strict: true, noEmit: true, skipLibCheck: false,
          // A TypeScript project for Node has @types/node; the repository's copy stands in for it.
          types: ['node'], typeRoots: [path.join(ROOT, 'node_modules/@types')],
        },
        files: ['good.ts', 'bad.ts'],
      }));
      const t0 = Date.now();
      const { status, output } = run(process.execPath, [TSC, '-p', dir], dir, { mayFail: true });
      timings.push(`tsc ${resolution} ${Date.now() - t0} ms`);
      const errors = output.split('\n').filter((l) => /error TS\d+/.test(l));
      assert.equal(status, 2, output);
      assert.deepEqual(errors.filter((l) => !l.startsWith('bad.ts')), [], 'only bad.ts has errors');
      assert.ok(errors.some((l) => /^bad\.ts\(2,\d+\): error TS\d+: Type '"TASK_DONE"' is not assignable to type 'TaskState/.test(l)), output);
      assert.ok(errors.some((l) => /^bad\.ts\(3,\d+\): error TS2322: Type 'number' is not assignable to type 'string \| string\[\] \| undefined'/.test(l)), output);
      assert.equal(errors.length, 2, output);
    });
  }

  test("the package's bins run from the install (through its tsx), the shipped frameworks' included", () => {
    const { stdout } = run(path.join(app, 'node_modules/.bin/mezz'), ['--version'], app);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(stdout.trim(), pkg.version);
    // The shipped frameworks' bins too: their code (frameworks/) travels in the tarball.
    for (const bin of ['mezz-services', 'mezz-batch']) assert.match(run(path.join(app, 'node_modules/.bin', bin), ['--help'], app).stdout, new RegExp(`Usage: ${bin}`));
  });
});
