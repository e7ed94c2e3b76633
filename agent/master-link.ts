/**
 * An agent's link to the leading master, the one connection core of the
 * real agent and the simulated ones (so that the failover bench, which
 * runs simulated agents, measures the policy production runs). One
 * AgentGateway.Connect stream at a time, to the master the LeaderFollower
 * (lib/leader-follower.ts) picks:
 *
 *   open(next address) ──▶ register (+ register_tasks pages), naming the lost leader
 *     ──registered──▶ follower.succeeded(), ping every interval ──▶ onRegistered
 *     ──anything else──▶ onMessage
 *   error │ end │ refused │ silence ──▶ follower.failed(how it ended) ──▶ onDisconnected
 *     ──▶ wait the delay follower.next() gives ──▶ open(its address)
 *
 * Silence: a registration unanswered for `registerTimeoutMs`, or a
 * registered stream with nothing heard for three ping intervals and a
 * margin, is taken for dead. The link checks that on a timer of its own,
 * or, with `silenceTimer: false`, when its owner calls `checkSilence` (the
 * simulated agents share one tick for the group).
 *
 * What the master says about itself comes structured: a standby refuses
 * the stream with error kind NOT_LEADER and names the leader in trailing
 * metadata (lib/grpc.ts `errorKindOf`, `leaderOf`). An in-band `refused`
 * is the master turning this agent away, never a leader hint.
 */
import type * as grpc from '@grpc/grpc-js';
import { describeGrpcError, errorKindOf, leaderOf } from '../lib/grpc';
import type { Attempt, Failure, LeaderFollower } from '../lib/leader-follower';
import type { AgentInfo, AgentMessage, AgentTask, MasterMessage__Output } from '../lib/proto';
import { registrationMessages } from './registration';

export type AgentStream = grpc.ClientDuplexStream<AgentMessage, MasterMessage__Output>;

/** The master's answer to a registration. */
export interface Registered {
  agentId: string;
  pingIntervalSeconds: number;
  masterId: string;
  /** Issued with a new id: kept beside it and sent with every later registration. */
  agentToken: string;
  /** What the agent's file service accepts from now on (the registering master's reads). */
  filesToken: string;
}

/** How a stream ended, beside its reason: whether the master turned the agent away, and what comes next. */
export interface Disconnection {
  /** An in-band `refused`, or a registration answered without an agent id. */
  refused: boolean;
  /** The next attempt: where, and after how long. */
  next: Attempt;
}

export interface MasterLinkOptions {
  follower: LeaderFollower;
  /** Opens a stream to `master`; `close`, when given, frees what was opened for it (a channel of its own) once the stream is dropped. */
  open(master: string): { call: AgentStream; close?: () => void };
  /** What to register with on each new stream: the agent's info, every task it tracks, and the token issued with its id. */
  registration(): { info: AgentInfo; tasks: AgentTask[]; agentToken?: string };
  /** Ping interval until the master sets one at registration. */
  pingIntervalMs: number;
  /** How long a registration may go unanswered. Default three ping intervals and the margin. */
  registerTimeoutMs?: number;
  /** false: the owner calls `checkSilence` on a tick of its own. Default true: a timer per stream. */
  silenceTimer?: boolean;
  /** The stream is registered (the link already pings and `write` works). */
  onRegistered(r: Registered, master: string): void;
  /** Every other message from the master but `pong`. */
  onMessage(m: MasterMessage__Output): void;
  /** The stream ended (not by `disconnect` or `stop`); the next attempt is scheduled. */
  onDisconnected(why: string, master: string, wasRegistered: boolean, how: Disconnection): void;
}

/** Margin over three missed ping intervals before a stream counts as dead. */
export const SILENCE_MARGIN_MS = 1000;

interface Stream {
  master: string;
  call: AgentStream;
  close?: () => void;
  registered: boolean;
  lastHeard: number;
  pingMs: number;
  pingSeq: number;
  pingTimer?: NodeJS.Timeout;
  silenceTimer?: NodeJS.Timeout;
}

export class MasterLink {
  #stream: Stream | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(private readonly opts: MasterLinkOptions) {}

  /** True while a stream is registered with a master. */
  get registered(): boolean {
    return !!this.#stream?.registered;
  }

  /** The master the current stream goes to (registered or not); '' between streams. */
  get master(): string {
    return this.#stream?.master ?? '';
  }

  /** Opens a stream now, to the address the follower gives (its delay is not waited). */
  start(): void {
    if (this.#stopped) return;
    this.disconnect();
    this.#open(this.opts.follower.next().address);
  }

  /** Ends the stream without counting a failure, and opens none until `start`. */
  disconnect(): void {
    clearTimeout(this.#reconnect);
    this.#reconnect = undefined;
    this.#drop();
  }

  /** For good. Idempotent. */
  stop(): void {
    this.#stopped = true;
    this.disconnect();
  }

  /** Sends `msg` if registered; false (nothing sent) otherwise. */
  write(msg: AgentMessage): boolean {
    const s = this.#stream;
    if (!s?.registered) return false;
    s.call.write(msg);
    return true;
  }

  /** Ends the stream if the master has been silent too long (see the module comment). */
  checkSilence(now: number): void {
    const s = this.#stream;
    if (!s) return;
    const limit = s.registered ? 3 * s.pingMs + SILENCE_MARGIN_MS : this.#registerTimeoutMs();
    if (now - s.lastHeard > limit) this.#lose(s, `nothing heard from the master for ${now - s.lastHeard} ms`);
  }

  #registerTimeoutMs(): number {
    return this.opts.registerTimeoutMs ?? 3 * this.opts.pingIntervalMs + SILENCE_MARGIN_MS;
  }

  #open(master: string): void {
    const { call, close } = this.opts.open(master);
    const s: Stream = { master, call, close, registered: false, lastHeard: Date.now(), pingMs: this.opts.pingIntervalMs, pingSeq: 0 };
    this.#stream = s;
    call.on('data', (m: MasterMessage__Output) => this.#receive(s, m));
    // 'error' carries the status of a failed call; 'status' always comes (after it), also for a clean end.
    const ended = (e: Partial<grpc.StatusObject>): void => {
      if (e.code === 0) return this.#lose(s, 'the master closed the stream');
      this.#lose(s, describeGrpcError(e), { notLeader: errorKindOf(e) === 'NOT_LEADER', leader: leaderOf(e) });
    };
    call.on('error', ended);
    call.on('status', ended);
    this.#armSilenceTimer(s);
    const { info, tasks, agentToken } = this.opts.registration();
    const messages = registrationMessages(info, tasks, this.opts.follower.lostLeader());
    if (agentToken) messages[0]!.register!.agentToken = agentToken;
    for (const m of messages) call.write(m);
  }

  #receive(s: Stream, m: MasterMessage__Output): void {
    if (s !== this.#stream) return;
    s.lastHeard = Date.now();
    switch (m.message) {
      case 'registered': return this.#registered(s, m.registered!);
      case 'refused': return this.#lose(s, `registration refused: ${m.refused!.reason}`, {}, true);
      case 'pong': return;
      default: this.opts.onMessage(m);
    }
  }

  #registered(s: Stream, r: Registered): void {
    if (!r.agentId) return this.#lose(s, 'the master answered registration without an agent id', {}, true);
    s.registered = true;
    this.opts.follower.succeeded();
    s.pingMs = r.pingIntervalSeconds > 0 ? r.pingIntervalSeconds * 1000 : this.opts.pingIntervalMs;
    clearInterval(s.pingTimer);
    s.pingTimer = setInterval(() => s.call.write({ ping: { seq: ++s.pingSeq } }), s.pingMs);
    s.pingTimer.unref();
    this.#armSilenceTimer(s);
    this.opts.onRegistered(r, s.master);
  }

  #armSilenceTimer(s: Stream): void {
    if (this.opts.silenceTimer === false) return;
    clearInterval(s.silenceTimer);
    s.silenceTimer = setInterval(() => this.checkSilence(Date.now()), Math.max(50, Math.floor(s.pingMs / 2)));
    s.silenceTimer.unref();
  }

  /** `s` ended: tell the follower how, and schedule the attempt it picks. */
  #lose(s: Stream, why: string, how: Failure = {}, refused = false): void {
    if (s !== this.#stream || this.#stopped) return;
    this.#drop();
    const { follower } = this.opts;
    follower.failed({ ...how, wasConnected: s.registered });
    const next = follower.next();
    this.#reconnect = setTimeout(() => this.#open(next.address), next.delayMs);
    this.opts.onDisconnected(why, s.master, s.registered, { refused, next });
  }

  #drop(): void {
    const s = this.#stream;
    if (!s) return;
    this.#stream = undefined;
    clearInterval(s.pingTimer);
    clearInterval(s.silenceTimer);
    s.call.cancel();
    s.close?.();
  }
}
