/**
 * sweep-framework: a parameter sweep that survives its own restarts. It runs
 * one task per value of --params (retrying a failed one up to --retries
 * times), spread evenly over the values of an agent attribute (--spread,
 * e.g. rack), then one gang of --gang tasks that start together on one agent
 * (the "reduce" step). It follows the SDK README's "Writing a correct
 * framework":
 *   - its state file (--state) is written before every launch;
 *   - task ids come from that state: sweep-p<param>-a<attempt>, gang-<i>-a<attempt>;
 *   - a restarted process subscribes with the saved framework id, asks the
 *     master about every task its state says was launched, and launches
 *     nothing until each is answered — so nothing runs twice.
 *
 *   npx tsx examples/sweep-framework.ts --params 1,2,3,4 --cmd 'echo $PARAM' --spread rack
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  connectFramework, gang, isTerminal, spread, SubscribeError,
  type AnyOffer, type Framework, type Placed, type TaskInfo, type TaskStatus__Output,
} from '../frameworks/sdk';

const { values: opt } = parseArgs({ options: {
  master: { type: 'string', default: process.env.MEZZ_MASTER ?? '127.0.0.1:5050' },
  params: { type: 'string', default: '1,2,3,4' }, cmd: { type: 'string', default: 'echo $PARAM' },
  spread: { type: 'string', default: 'rack' }, gang: { type: 'string', default: '2' },
  'gang-cmd': { type: 'string', default: 'echo reduce $MEZZ_TASK_ID' }, retries: { type: 'string', default: '2' },
  state: { type: 'string', default: 'sweep-state.json' }, name: { type: 'string', default: 'sweep' },
} });
const shape = { cpus: 0.1, mem: 32 };
const gangSize = Number(opt.gang);
const retries = Number(opt.retries);

/** One unit of work: its attempt number and where it stands; `value` is the spread attribute's value where it runs. */
interface Work { attempt: number; phase: 'pending' | 'launched' | 'done'; agentId?: string; value?: string }
interface State { frameworkId?: string; sweep: Record<string, Work>; gang: Work }

const fresh = (): State => ({ sweep: Object.fromEntries(opt.params.split(',').map((p) => [p, { attempt: 1, phase: 'pending' }])), gang: { attempt: 1, phase: 'pending' } });
const state: State = (() => { try { return JSON.parse(readFileSync(opt.state, 'utf8')) as State; } catch { return fresh(); } })();
/** Atomic: a crash leaves the old file or the new one, never half of one. */
function save(): void {
  writeFileSync(`${opt.state}.tmp`, JSON.stringify(state, null, 1));
  renameSync(`${opt.state}.tmp`, opt.state);
}

const sweepId = (p: string) => `sweep-p${p}-a${state.sweep[p]!.attempt}`;
const gangIds = () => Array.from({ length: gangSize }, (_, i) => `gang-${i}-a${state.gang.attempt}`);
/** taskId → the work it belongs to, for every task launched in the current attempts. */
function owner(taskId: string): Work | undefined {
  if (gangIds().includes(taskId)) return state.gang;
  return Object.entries(state.sweep).find(([p]) => sweepId(p) === taskId)?.[1];
}

async function subscribe(): Promise<Framework> {
  const o = { master: opt.master, name: opt.name, failoverTimeout: '1h' };
  try {
    return await connectFramework({ ...o, frameworkId: state.frameworkId });
  } catch (e) {
    // The master forgot us (torn down, or away past the failover timeout): our tasks are gone too. Start over.
    if (!(e instanceof SubscribeError) || !['FRAMEWORK_REMOVED', 'FRAMEWORK_UNKNOWN'].includes(e.kind) || !state.frameworkId) throw e;
    console.log(`framework ${state.frameworkId} is gone (${e.kind}); starting afresh`);
    Object.assign(state, fresh());
    return connectFramework(o);
  }
}

const fw = await subscribe().catch((e: Error) => { console.error(e.message); return process.exit(1); });
state.frameworkId = fw.frameworkId;
save();
let ready = false; // no launches before reconciliation answered

async function exit(code: number, why: string): Promise<never> {
  (code ? console.error : console.log)(why);
  if (code === 0) await fw.teardown().catch((e: Error) => console.error(e.message));
  else fw.close(); // keep the tasks: a restart with the same state carries on
  process.exit(code);
}

function onUpdate(s: TaskStatus__Output): void {
  const work = owner(s.taskId);
  if (!work || work.phase !== 'launched') return; // an older attempt, or an answer we already had
  if (s.state === 'TASK_FINISHED') {
    finished.add(s.taskId);
    if (work === state.gang && !gangIds().every((id) => finished.has(id))) return;
    work.phase = 'done';
  } else if (isTerminal(s.state)) {
    console.log(`${s.taskId} ended ${s.state}: ${s.message}`);
    if (s.state === 'TASK_ERROR' || work.attempt > retries) return void exit(1, `${s.taskId} failed for good: ${s.state} ${s.message}`);
    Object.assign(work, { attempt: work.attempt + 1, phase: 'pending' });
    finished.clear();
    fw.revive();
  } else return;
  save();
  if (state.gang.phase === 'done') void exit(0, `sweep of ${Object.keys(state.sweep).length} and gang of ${gangSize} finished`);
}
const finished = new Set<string>(); // gang tasks finished in its current attempt

fw.on('offers', (offers) => {
  if (!ready) return fw.decline(offers, { refuseSeconds: 1 });
  const pending = Object.keys(state.sweep).filter((p) => state.sweep[p]!.phase === 'pending');
  const placed: Placed[] = Object.values(state.sweep).filter((w) => w.phase === 'launched' && w.value)
    .map((w) => ({ attributes: [{ name: opt.spread, text: w.value! }] }));
  let launches: { offers: AnyOffer[]; tasks: TaskInfo[]; work: Work[]; group: boolean }[] = [];
  let unused: AnyOffer[] = offers;
  if (pending.length) {
    const plan = spread(offers, pending.length, shape, (i, offer) => {
      const p = pending[i]!;
      const value = offer.attributes?.find((a) => a.name === opt.spread)?.text;
      Object.assign(state.sweep[p]!, { phase: 'launched', agentId: offer.agentId, value });
      return { taskId: sweepId(p), command: { value: opt.cmd, shell: true, environment: { PARAM: p } } };
    }, { by: opt.spread, placed });
    launches = plan.launches.map((l) => ({ offers: [l.offer], tasks: l.tasks, work: l.tasks.map((t) => owner(t.taskId ?? '')!), group: false }));
    unused = plan.unused;
    for (const r of plan.refused) console.log(`offer of ${r.offer.hostname}: ${r.reason}`);
  } else if (state.gang.phase === 'pending' && Object.values(state.sweep).every((w) => w.phase === 'done')) {
    const g = gang(offers, Array(gangSize).fill(shape), (i) => ({ taskId: gangIds()[i]!, command: { value: opt['gang-cmd'], shell: true } }));
    if (!g.ok) console.log(`gang waits: ${g.reason}`);
    else Object.assign(state.gang, { phase: 'launched', agentId: g.agentId });
    if (g.ok) launches = [{ offers: g.offers, tasks: g.tasks, work: [state.gang], group: true }];
    unused = g.unused;
  }
  save(); // persist before launch: a crash from here on leaves ids we will ask about
  for (const l of launches) {
    const sent = l.group ? fw.launchGroup(l.offers, l.tasks) : fw.launch(l.offers, l.tasks);
    if (!sent) for (const w of l.work) w.phase = 'pending'; // not connected: the offers are void, nothing started
  }
  save();
  fw.decline(unused, { refuseSeconds: 1 });
});

fw.on('update', onUpdate);
fw.on('error', (e) => (e.fatal ? void exit(1, `framework error: ${e.message}`) : console.error(`warning: ${e.message}`)));
fw.on('subscribed', (s) => s.resubscribed && fw.reconcile()); // a reconnect within this process

// Ask about every task the state says was launched, until each is answered.
const launched = [...Object.keys(state.sweep).filter((p) => state.sweep[p]!.phase === 'launched').map((p) => ({ taskId: sweepId(p), agentId: state.sweep[p]!.agentId })),
  ...(state.gang.phase === 'launched' ? gangIds().map((taskId) => ({ taskId, agentId: state.gang.agentId })) : [])];
if (launched.length) {
  const { statuses, unanswered } = await fw.reconcileTasks(launched, { timeout: '60s' });
  if (unanswered.length) await exit(1, `no answer about ${unanswered.join(', ')} within 60 s; run again later`);
  for (const s of statuses.values()) onUpdate(s);
  console.log(`reconciled ${launched.length} tasks: ${[...statuses.values()].map((s) => `${s.taskId} ${s.state}`).join(', ')}`);
}
ready = true;
fw.revive();
process.once('SIGINT', () => void exit(130, 'interrupted; run again with the same --state to carry on'));
