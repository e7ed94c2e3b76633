/**
 * hello-framework: a complete Mezzanine framework. It runs N copies of a
 * command, prints each task's state changes, and exits 0 when all finished
 * (non-zero, with the reason, as soon as one fails). Reconnection, heartbeats
 * and acknowledgements are the SDK's job, so none of that appears here.
 *
 *   npx tsx examples/hello-framework.ts --master 127.0.0.1:5050 --tasks 5 --cmd 'echo hello'
 */
import { parseArgs } from 'node:util';
import { connectFramework, isTerminal, pack } from '../frameworks/sdk';

const { values: opt } = parseArgs({ options: {
  master: { type: 'string', default: process.env.MEZZ_MASTER ?? '127.0.0.1:5050' },
  tasks: { type: 'string', default: '3' }, cmd: { type: 'string', default: 'echo hello' },
  cpus: { type: 'string', default: '0.1' }, mem: { type: 'string', default: '32' },
  role: { type: 'string', default: '*' }, name: { type: 'string', default: 'hello' },
} });
const total = Number(opt.tasks);
if (!(Number.isInteger(total) && total > 0)) { console.error(`--tasks must be a positive integer, got ${opt.tasks}`); process.exit(2); }
const run = Date.now().toString(36); // task ids must be unique: prefix them with this run
let launched = 0;
const finished = new Set<string>(); // a set: updates arrive at least once
let exiting = false;

const fw = await connectFramework({ master: opt.master, name: opt.name, roles: [opt.role], failoverTimeout: '5m' })
  .catch((e: Error) => { console.error(e.message); return process.exit(1); }); // e.g. no master reachable within 30 s
console.log(`framework ${fw.frameworkId} subscribed; launching ${total} × '${opt.cmd}'`);

async function exit(code: number, why: string): Promise<void> {
  if (exiting) return;
  exiting = true;
  (code ? console.error : console.log)(why);
  await fw.teardown().catch((e: Error) => console.error(e.message)); // kills what still runs
  process.exit(code);
}

fw.on('offers', (offers) => {
  const shape = { cpus: Number(opt.cpus), mem: Number(opt.mem) };
  const plan = pack(offers, total - launched, shape, (i) => ({
    taskId: `${opt.name}-${run}-${launched + i}`, command: { value: opt.cmd, shell: true },
  }));
  // While tasks wait, what an offer leaves over (memory without cpus, say) is refused for a
  // second only: a 30 s filter would keep this framework off the agent long after its cpus free
  // up again, and the cluster would sit idle instead of being shared by weight.
  const refuseSeconds = plan.remaining ? 0 : 30;
  if (fw.launchAll(plan, { refuseSeconds })) launched = total - plan.remaining;
  fw.decline(plan.unused, { refuseSeconds: plan.remaining ? 1 : 30 }); // not usable now: let other frameworks have them
  if (launched === total) fw.suppress(); // nothing left to place: stop the offers
});

fw.on('update', (s) => {
  console.log(`${s.taskId} ${s.state} on ${s.agentId}${s.message ? `: ${s.message}` : ''}`);
  if (s.state === 'TASK_FINISHED') {
    if (finished.add(s.taskId).size === total) void exit(0, `all ${total} tasks finished`);
  } else if (isTerminal(s.state)) {
    void exit(1, `${s.taskId} ended ${s.state}: ${s.message || s.reason || 'no message'} (exit code ${s.exitCode ?? 'none'})`);
  }
});

fw.on('subscribed', (s) => s.resubscribed && fw.reconcile()); // after a reconnect: what did we miss?
fw.on('error', (e) => (e.fatal ? void exit(1, `framework error: ${e.message}`) : console.error(`warning: ${e.message}`)));
process.once('SIGINT', () => void exit(130, 'interrupted'));
