import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { invalidJobBody, parseJob } from '../../frameworks/batch/job-spec';
import type { FieldErrors } from '../../frameworks/batch/job-schema';

const EXAMPLES = fileURLToPath(new URL('../../examples/batch/', import.meta.url));

function errorsOf(body: unknown, opts = {}): FieldErrors[] {
  const r = parseJob(body, opts);
  assert.ok(r.errors, `expected errors, got ${JSON.stringify(r.job)}`);
  return r.errors;
}

function errorAt(body: unknown, path: string, pattern: RegExp, opts = {}): void {
  const errors = errorsOf(body, opts);
  const at = errors.find((e) => e.path === path);
  assert.ok(at, `no error at ${path}: ${JSON.stringify(errors)}`);
  assert.ok(at.errors.some((m) => pattern.test(m)), `${path}: ${JSON.stringify(at.errors)} does not match ${pattern}`);
}

/** A job running `true`, or `run.args` instead when given. */
const job = (extra: Record<string, unknown> = {}, run: Record<string, unknown> = {}) => ({ id: 'nightly', run: { ...('args' in run ? {} : { cmd: 'true' }), ...run }, ...extra });

describe('parseJob: defaults', () => {
  it("fills in Metronome's defaults and Mezzanine's", () => {
    const r = parseJob({ id: 'prod.reports-daily', run: { cmd: 'make report' }, schedules: [{ id: 'nightly', cron: '0 2 * * *' }] });
    assert.deepEqual(r.job, {
      id: 'prod.reports-daily',
      description: '',
      labels: {},
      run: {
        cmd: 'make report',
        cpus: 1,
        mem: 128,
        disk: 0,
        gpus: 0,
        env: {},
        artifacts: [],
        placement: { constraints: [] },
        maxLaunchDelay: 3600,
        restart: { policy: 'NEVER' },
      },
      schedules: [{ id: 'nightly', cron: '0 2 * * *', timezone: 'UTC', startingDeadlineSeconds: 900, concurrencyPolicy: 'ALLOW', enabled: true }],
      parallelism: 1,
      completions: 1,
      completionMode: 'NonIndexed',
      backoffLimit: 6,
      gang: false,
      dependencies: [],
      historyLimits: { successful: 100, failed: 100 },
    });
  });

  it('keeps what is given; completions default to parallelism; artifacts get their defaults', () => {
    const r = parseJob(
      job(
        { parallelism: 3, completionMode: 'Indexed', gang: true, backoffLimit: 0, dependencies: [{ id: 'extract' }], historyLimits: { failed: 5 } },
        { args: ['make', 'x'], artifacts: [{ uri: 'http://h/a.tgz' }], restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: 60 }, user: 'nobody' },
      ),
    );
    assert.ok(r.job);
    assert.equal(r.job.completions, 3);
    assert.deepEqual(r.job.run.args, ['make', 'x']);
    assert.equal(r.job.run.cmd, undefined);
    assert.deepEqual(r.job.run.artifacts, [{ uri: 'http://h/a.tgz', extract: true, executable: false, cache: false }]);
    assert.deepEqual(r.job.run.restart, { policy: 'ON_FAILURE', activeDeadlineSeconds: 60 });
    assert.deepEqual(r.job.historyLimits, { successful: 100, failed: 5 });
    assert.deepEqual(r.job.dependencies, [{ id: 'extract' }]);
  });

  it('reads YAML text the same as JSON', () => {
    const yaml = ['id: etl.load', 'run:', '  cmd: ./load.sh', '  mem: 256', 'schedules:', '  - id: hourly', '    cron: "0 * * * *"', '    timezone: Europe/Berlin', '    concurrencyPolicy: REPLACE'].join('\n');
    const r = parseJob(yaml);
    assert.ok(r.job);
    assert.equal(r.job.run.mem, 256);
    assert.deepEqual(r.job.schedules[0], { id: 'hourly', cron: '0 * * * *', timezone: 'Europe/Berlin', startingDeadlineSeconds: 900, concurrencyPolicy: 'REPLACE', enabled: true });
    assert.deepEqual(parseJob(JSON.stringify(job())).job, parseJob(job()).job);
  });

  it('accepts fields that ask for nothing Mezzanine lacks: empty volumes and secrets, host networks', () => {
    assert.ok(parseJob(job({}, { volumes: [], secrets: {}, networks: [{ mode: 'host' }] })).job);
  });
});

describe('parseJob: refusals by path', () => {
  it('names a body that is no job', () => {
    assert.deepEqual(errorsOf('{"id": '), [{ path: '/', errors: [errorsOf('{"id": ')[0]!.errors[0]!] }]);
    assert.match(errorsOf('{"id": ')[0]!.errors[0]!, /neither JSON nor YAML/);
    errorAt([1], '/', /must be a JSON object/);
  });

  it('names unknown and misplaced fields', () => {
    errorAt(job({ colour: 'red' }), '/colour', /unknown field/);
    errorAt(job({ cpus: 2 }), '/cpus', /belongs in \/run/);
    errorAt(job({}, { cron: '* * * * *' }), '/run/cron', /belongs in \/schedules\/<n>/);
    errorAt(job({}, { parallelism: 2 }), '/run/parallelism', /belongs in \/ \(the job, beside run\)/);
    errorAt(job({}, { restart: { policy: 'NEVER', backoff: 1 } }), '/run/restart/backoff', /unknown field/);
    errorAt(job({ schedules: [{ id: 's', cron: '* * * * *', policy: 'ALLOW' }] }), '/schedules/0/policy', /unknown field/);
  });

  it('requires id and run, and cmd xor args', () => {
    errorAt({ run: { cmd: 'x' } }, '/id', /is required/);
    errorAt({ id: 'a' }, '/run', /is required/);
    errorAt({ id: 'a', run: { cpus: 1 } }, '/run', /give cmd or args/);
    errorAt({ id: 'a', run: { cmd: 'x', args: ['a'] } }, '/run/args', /not both/);
  });

  it('refuses negative resources and bad enums', () => {
    errorAt(job({}, { cpus: -1 }), '/run/cpus', />= 0/);
    errorAt(job({}, { mem: -5 }), '/run/mem', />= 0/);
    errorAt(job({}, { gpus: 0.5 }), '/run/gpus', /integer/);
    errorAt(job({}, { restart: { policy: 'ALWAYS' } }), '/run/restart/policy', /NEVER, ON_FAILURE/);
    errorAt(job({ completionMode: 'Random' }), '/completionMode', /NonIndexed, Indexed/);
    errorAt(job({}, { placement: { constraints: [{ attribute: 'rack', operator: 'GROUP_BY', value: '2' }] } }), '/run/placement/constraints/0/operator', /IS, EQ, LIKE, UNLIKE/);
    errorAt(job({}, { placement: { constraints: [{ attribute: 'rack', operator: 'LIKE', value: '(' }] } }), '/run/placement/constraints/0/value', /regular expression/);
    errorAt(job({}, { placement: { constraints: [{ attribute: 'rack', operator: 'IS' }] } }), '/run/placement/constraints/0/value', /required for IS/);
  });

  it("refuses ids outside Metronome's rule", () => {
    for (const id of ['Nightly', 'a..b', '-a', 'a-', 'cleanDb --force', 'a/b']) errorAt(job({ id }), '/id', /lowercase letters, digits and dashes/);
    errorAt(job({ schedules: [{ id: 'Every_Minute', cron: '* * * * *' }] }), '/schedules/0/id', /lowercase/);
    errorAt(job({ dependencies: [{ id: 'UP' }] }), '/dependencies/0/id', /lowercase/);
  });

  it('refuses duplicate schedule ids, self and repeated dependencies', () => {
    errorAt(job({ schedules: [{ id: 's', cron: '1 * * * *' }, { id: 's', cron: '2 * * * *' }] }), '/schedules/1/id', /given twice/);
    errorAt(job({ dependencies: [{ id: 'nightly' }] }), '/dependencies/0/id', /itself/);
    errorAt(job({ dependencies: [{ id: 'a' }, { id: 'a' }] }), '/dependencies/1/id', /listed twice/);
  });

  it('refuses completions below parallelism', () => {
    errorAt(job({ parallelism: 4, completions: 2 }), '/completions', /below parallelism 4/);
    assert.ok(parseJob(job({ parallelism: 2, completions: 6 })).job);
  });

  it('refuses what Mezzanine cannot honour as not supported, by name', () => {
    errorAt(job({}, { docker: { image: 'busybox' } }), '/run/docker', /not supported: container images \(Docker\)/);
    errorAt(job({}, { ucr: { image: { id: 'x' } } }), '/run/ucr', /not supported: container images \(UCR\)/);
    errorAt(job({}, { secrets: { s: { source: 'x' } } }), '/run/secrets', /not supported: secrets/);
    errorAt(job({}, { volumes: [{ containerPath: '/a', hostPath: '/b', mode: 'RW' }] }), '/run/volumes', /not supported: volumes/);
    errorAt(job({}, { networks: [{ mode: 'container', name: 'dcos' }] }), '/run/networks', /not supported: networks other than host/);
    errorAt(job({ docker: {} }), '/docker', /not supported/);
  });

  it('reports problems in several fields at once', () => {
    const errors = errorsOf(job({ colour: 1, backoffLimit: -1 }, { cpus: -1, docker: {} }));
    assert.deepEqual(errors.map((e) => e.path).sort(), ['/backoffLimit', '/colour', '/run/cpus', '/run/docker']);
  });

  it('leaves cron and time zone to the validateCron hook', () => {
    const seen: string[] = [];
    const validateCron = (cron: string, tz: string) => (seen.push(`${cron}@${tz}`), cron === 'bad' ? 'not a cron expression' : undefined);
    errorAt(job({ schedules: [{ id: 'a', cron: 'bad', timezone: 'Asia/Tokyo' }] }), '/schedules/0/cron', /not a cron expression/, { validateCron });
    assert.ok(parseJob(job({ schedules: [{ id: 'b', cron: '0 0 * * *' }] }), { validateCron }).job);
    assert.deepEqual(seen, ['bad@Asia/Tokyo', '0 0 * * *@UTC']);
    assert.ok(parseJob(job({ schedules: [{ id: 'a', cron: 'bad' }] })).job, 'without the hook, cron is any non-empty string');
  });

  it("wraps errors in Metronome's 422 body", () => {
    assert.deepEqual(invalidJobBody([{ path: '/id', errors: ['x'] }]), { message: 'Object is not valid', details: [{ path: '/id', errors: ['x'] }] });
  });
});

describe("Metronome's documented examples (examples/batch/)", () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'));
  it('holds some', () => assert.ok(files.length > 0));
  for (const file of files) {
    it(`${file} parses unchanged`, () => {
      const r = parseJob(readFileSync(join(EXAMPLES, file), 'utf8'));
      assert.ok(r.job, JSON.stringify(r.errors));
    });
  }
});
