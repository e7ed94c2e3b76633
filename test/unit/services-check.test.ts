/**
 * Marathon's app `check` in mezz-services: the app's check becomes the
 * TaskInfo's (Marathon's example http-index-test.json among them), the
 * agent's result becomes Marathon's `checkResult`, the scheduler keeps the
 * latest on the task's record, and GET shows it on live tasks only.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { LeaderContext } from '../../frameworks/foundation';
import { parseApp, type App } from '../../frameworks/services';
import { taskJson } from '../../frameworks/services/api-json';
import type { ServiceTask } from '../../frameworks/services/app-store';
import { appCheck, checkResult, finishTask } from '../../frameworks/services/app-task';
import { ServicesScheduler } from '../../frameworks/services/scheduler';
import type { CheckStatusInfo__Output, TaskStatus__Output } from '../../lib/proto';
import { quiet } from '../harness';
import { memoryState } from './memory-state';

function app(body: Record<string, unknown>): App {
  const r = parseApp({ cmd: 'sleep 100', ...body });
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.app;
}

describe('the app\'s check on the task', () => {
  it('Marathon\'s http-index-test.json: an HTTP check on port index 0, its interval and timeout, Marathon\'s delay', () => {
    const spec = JSON.parse(readFileSync(new URL('../../examples/services/http-index-test.json', import.meta.url), 'utf8'));
    const task = finishTask(app(spec), 'v1', { taskId: 'http-index-test.v1.0.1', command: { value: 'run', environment: { PORT0: '31005' } } }, 'h1');
    assert.deepEqual(task.check, { type: 'HTTP', http: { port: 0, portIndex: 0, path: '/' }, delaySeconds: 15, intervalSeconds: 60, timeoutSeconds: 20 });
  });

  it('no check, none on the task', () => {
    assert.equal(finishTask(app({ id: '/none' }), 'v1', { taskId: 'none.v1.0.1', command: { value: 'run' } }, 'h1').check, undefined);
  });

  const timing = { delaySeconds: 15, intervalSeconds: 60, timeoutSeconds: 20 };
  const cases: { name: string; check: Record<string, unknown>; want: object }[] = [
    { name: 'HTTPS as an HTTP check with scheme https', check: { http: { portIndex: 1, path: '/ping', scheme: 'HTTPS' } },
      want: { type: 'HTTP', http: { port: 0, portIndex: 1, path: '/ping', scheme: 'https' }, ...timing } },
    { name: 'TCP on a fixed port', check: { tcp: { port: 8080 }, delaySeconds: 1 },
      want: { type: 'TCP', tcp: { port: 8080 }, ...timing, delaySeconds: 1 } },
    { name: 'exec with a shell command', check: { exec: { command: { shell: 'test -f ready' } } },
      want: { type: 'COMMAND', command: { value: 'test -f ready', shell: true }, ...timing } },
    { name: 'exec with argv', check: { exec: { command: { argv: ['/bin/test', '-f', 'ready'] } } },
      want: { type: 'COMMAND', command: { value: '/bin/test', shell: false, arguments: ['-f', 'ready'] }, ...timing } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(appCheck(app({ id: '/c', portDefinitions: [{ port: 0 }, { port: 0 }], check: c.check }).check!), c.want));
  }
});

describe('checkResult (the agent\'s check status as Marathon shows it)', () => {
  const status = (o: Partial<CheckStatusInfo__Output>): CheckStatusInfo__Output => ({ type: 'HTTP', http: null, tcp: null, command: null, message: 'm', ...o });
  const cases: { name: string; status: CheckStatusInfo__Output; want: object }[] = [
    { name: 'HTTP: the status code', status: status({ http: { statusCode: 200 } }), want: { http: { statusCode: 200 } } },
    { name: 'HTTP: no answer, no status code', status: status({ http: {} }), want: { http: {} } },
    { name: 'TCP: succeeded', status: status({ type: 'TCP', tcp: { succeeded: true } }), want: { tcp: { succeeded: true } } },
    { name: 'TCP: not', status: status({ type: 'TCP', tcp: { succeeded: false } }), want: { tcp: { succeeded: false } } },
    { name: 'COMMAND: the exit code', status: status({ type: 'COMMAND', command: { exitCode: 0 } }), want: { command: { exitCode: 0 } } },
    { name: 'COMMAND: a timeout, no exit code', status: status({ type: 'COMMAND', command: {} }), want: { command: {} } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(checkResult(c.status), c.want));
});

describe('the scheduler keeps the latest check result; GET shows it on live tasks', () => {
  const record: ServiceTask = {
    taskId: 'web.v1.0.1', group: '/web', version: 'v1', instance: 0, attempt: 1, state: 'TASK_RUNNING',
    launchedAt: 0, startedAt: 1, updatedAt: 1, agentId: 'a1', hostname: 'h1', ports: [31005],
  } as ServiceTask;

  /** A scheduler leading (after a failover: the stored task stays as it is) with `record` stored; `update` feeds it status updates. */
  async function leading() {
    const kv = new Map<string, unknown>([[`tasks/${record.taskId}`, record]]);
    const state = memoryState(kv);
    let onUpdate!: (s: Partial<TaskStatus__Output>) => void;
    const framework = {
      on(event: string, f: (s: Partial<TaskStatus__Output>) => void) { if (event === 'update') onUpdate = f; },
      revive() {}, suppress() {}, launch() {}, decline() {}, kill() {}, reconcileTasks: async () => ({ statuses: new Map() }),
    };
    const scheduler = new ServicesScheduler({ log: quiet as never, newId: () => 'd1' });
    const lead = new AbortController();
    await scheduler.lead({ framework, state, failover: true, signal: lead.signal } as unknown as LeaderContext);
    const update = (s: Partial<TaskStatus__Output>) => onUpdate({ taskId: record.taskId, healthy: null, checkStatus: null, ...s } as TaskStatus__Output);
    return { scheduler, update, stop: () => lead.abort() };
  }

  it('from the first result on, kept over updates without one, not shown once the task ended', async () => {
    const { scheduler, update, stop } = await leading();
    try {
      const shown = () => taskJson(scheduler.tasks('/web')[0]!);
      assert.equal('checkResult' in shown(), false, 'no result yet');
      update({ state: 'TASK_RUNNING', checkStatus: { type: 'HTTP', http: { statusCode: 200 }, tcp: null, command: null, message: 'GET answered 200' } });
      assert.deepEqual(shown().checkResult, { http: { statusCode: 200 } });
      update({ state: 'TASK_RUNNING', healthy: true });
      assert.deepEqual(shown().checkResult, { http: { statusCode: 200 } }, 'an update without a result keeps the last');
      update({ state: 'TASK_RUNNING', checkStatus: { type: 'HTTP', http: { statusCode: 503 }, tcp: null, command: null, message: 'GET answered 503' } });
      assert.deepEqual(shown().checkResult, { http: { statusCode: 503 } });
      assert.equal(shown().state, 'TASK_RUNNING', 'a check never changes the task\'s state');
      const ended = { ...scheduler.tasks('/web')[0]!, state: 'TASK_FINISHED' as const };
      assert.equal('checkResult' in taskJson(ended), false, 'an ended task shows none');
    } finally {
      stop();
    }
  });
});
