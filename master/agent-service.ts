/**
 * gRPC glue for AgentGateway.Connect: one bidirectional stream per agent.
 * The first message registers; the rest are pings and status updates.
 *
 * A standby refuses with the leader's address, except while a failover is
 * under way: an agent that names the leader it lost (`lost_leader`), when
 * this standby still names that one or none, is held until a leader is
 * elected. All agents then register the moment the new leader serves,
 * instead of polling standbys until it does.
 */
import type * as grpc from '@grpc/grpc-js';
import { peerHost } from '../lib/grpc';
import type { AgentGatewayHandlers } from '../lib/proto/generated/mezzanine/v1/AgentGateway';
import type { AgentMessage__Output } from '../lib/proto/generated/mezzanine/v1/AgentMessage';
import type { Caller } from '../lib/auth';
import { refuseStream, streamCaller, type LeaderSource } from './leader-source';
import type { Master } from './master';
import { streamLink, type AgentStream } from './state';

/**
 * The longest a standby holds a registration: above a dead leader's lease
 * lapsing at the default TTL (2 s, which etcd checks every 0.5 s), below
 * the silence after which an agent gives up on a master (4 s by default).
 */
export const HOLD_REGISTRATION_MS = 3000;

export function agentGatewayHandlers(node: LeaderSource): AgentGatewayHandlers {
  return {
    Connect(stream: AgentStream) {
      const caller = streamCaller(node, stream);
      if (!caller) return;
      const master = node.leading();
      if (master) {
        master.ownStream(stream);
        serve(master, stream, caller);
        return;
      }
      // A standby: the registration says whether to refuse at once or to hold it through an election.
      const first = (msg: AgentMessage__Output): void => {
        stream.off('end', ended);
        stream.pause();
        void standby(node, stream, msg, caller);
      };
      const ended = (): void => {
        stream.off('data', first);
        refuseStream(node, stream);
      };
      stream.once('data', first);
      stream.once('end', ended);
    },
  };
}

async function standby(node: LeaderSource, stream: AgentStream, first: AgentMessage__Output, caller: Caller): Promise<void> {
  const lost = first.register?.lostLeader;
  // No other leader serves yet: none is named, the lost one still is, or this node won and is loading.
  const electing = (named: string | undefined): boolean => named === undefined || named === lost || named === node.address;
  if (lost && electing(node.leaderAddress())) {
    const who = first.register?.info?.id || 'without an id';
    node.log.info(`holding the registration of agent ${who} from ${peerHost(stream.getPeer())} until a new leader serves `
      + `(it lost leader ${lost}; at most ${HOLD_REGISTRATION_MS} ms)`);
    const gone = new AbortController();
    const abort = (): void => gone.abort();
    const ends = ['cancelled', 'error', 'end'];
    for (const e of ends) stream.once(e, abort);
    const deadline = Date.now() + HOLD_REGISTRATION_MS;
    while (!gone.signal.aborted && !node.leading() && electing(node.leaderAddress()) && Date.now() < deadline) {
      await node.leadershipChange(deadline - Date.now(), gone.signal);
    }
    for (const e of ends) stream.off(e, abort);
    if (gone.signal.aborted) return;
  }
  const master = node.leading();
  if (!master) {
    refuseStream(node, stream);
    return;
  }
  master.ownStream(stream);
  serve(master, stream, caller, first);
  stream.resume();
}

/**
 * Most tasks one registration may carry over all its pages: far above what an
 * agent runs (a task costs at least a process), far below what would let one
 * agent fill the master's memory.
 */
export const MAX_REGISTERED_TASKS = 100_000;

/** Runs an agent's stream against `master`; `first` is its first message when it was read already. */
function serve(master: Master, stream: AgentStream, caller: Caller, first?: AgentMessage__Output): void {
  const link = streamLink(stream);
  let agentId: string | undefined;
  let registering: Promise<void> | undefined;
  /** A registration whose further task pages (`register_tasks`) are still arriving. */
  let paging: AgentMessage__Output | undefined;
  const refuse = (reason: string): void => {
    registering = Promise.resolve();
    stream.write({ refused: { reason } });
    stream.end();
  };
  const register = (msg: AgentMessage__Output): void => {
    registering = master
      .registerAgent(link, msg, peerHost(stream.getPeer()), caller)
      .then((id) => {
        agentId = id;
      })
      .catch((err: Error) => {
        stream.write({ refused: { reason: `registration failed: ${err.message}` } });
        stream.end();
      });
  };
  const onMessage = (msg: AgentMessage__Output): void => {
    if (!registering) {
      if (paging) {
        // The registration's tasks come in bounded pages; the master sees them all at once.
        const page = msg.registerTasks;
        if (!page) return refuse(`registration failed: expected a register_tasks page, got ${msg.message ?? 'an empty message'}`);
        const tasks = paging.register!.tasks;
        if (tasks.length + page.tasks.length > MAX_REGISTERED_TASKS) {
          paging = undefined;
          return refuse(`registration failed: more than ${MAX_REGISTERED_TASKS} tasks; the limit is ${MAX_REGISTERED_TASKS}`);
        }
        for (const t of page.tasks) tasks.push(t);
        if (page.more) return;
        const whole = paging;
        paging = undefined;
        return register(whole);
      }
      if (msg.register?.moreTasks) {
        paging = { ...msg, register: { ...msg.register, tasks: [...msg.register.tasks], moreTasks: false } };
        return;
      }
      return register(msg);
    }
    // Messages behind a registration in flight wait for it, in order.
    registering = registering.then(() => {
      if (agentId) master.agentMessage(agentId, link, msg);
    });
  };
  if (first) onMessage(first);
  stream.on('data', onMessage);
  const gone = () => {
    void registering?.then(() => {
      if (agentId) master.agentDisconnected(agentId, link);
    });
  };
  stream.on('end', () => {
    gone();
    stream.end();
  });
  stream.on('error', (_err: grpc.ServiceError) => gone());
  stream.on('cancelled', gone);
}
