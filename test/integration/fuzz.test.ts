/**
 * Fuzzing every gRPC method of a real master (Scheduler, AgentGateway,
 * Operator) and of a real agent (AgentFiles), with authentication on, for
 * a bounded time from a fixed seed. The methods are read from the loaded
 * services, so a method added later is fuzzed too. Each case is one of:
 *
 *   random     a message built from the method's request type: huge strings, negative, NaN and
 *              infinite numbers, unknown enum values, long repeated fields, nested messages
 *   garbage    bytes that are not protobuf (or are cut short)
 *   deep       100,000 nested protobuf groups in an unknown field (a decoder's recursion)
 *   oversized  a valid message above the server's cap (16 MB master, 1 MB agent)
 *   stream     (streams) a valid first message, then garbage; or cancelled part way
 *
 * sent with a valid token, no token or a wrong one. Nothing may crash or
 * hang: every unary call ends before its deadline with a real status (a
 * refusal with details); every stream ends with a status, and whatever it
 * received decodes; callers without a valid token are refused
 * UNAUTHENTICATED; oversized messages RESOURCE_EXHAUSTED. Afterwards both
 * processes still run, the master answers GetState, a real framework
 * subscribes and is offered the agent, and a burst of SUBSCRIBEs meets the
 * rate limit.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { bearerMetadata } from '../../lib/auth';
import { CHANNEL_OPTIONS, MAX_FILES_REQUEST_BYTES, MAX_MASTER_MESSAGE_BYTES } from '../../lib/grpc';
import { LOADER_OPTIONS, mezzProto, type Call, type Event__Output } from '../../lib/proto';
import { Cluster, task, waitFor, type Proc } from '../harness';
import { seededRng } from '../../master/allocator';

const SEED = 20261128;
/** How long the fuzzing runs, all workers together. */
const FUZZ_MS = 20_000;
const WORKERS = 6;
/** Every call must end by then (the servers answer in ms; the slack is a loaded 2-core machine). */
const CALL_DEADLINE_MS = 10_000;

const TOKENS = { fuzzer: 'fuzzer-secret-0123456789', after: 'after-secret-0123456789', burst: 'burst-secret-0123456789', agent: 'agent-secret-0123456789' };
type Auth = 'valid' | 'none' | 'wrong';

/** The metadata of a call made as `auth`: the fuzzer's token, none, or a token no principal holds. */
function metadataFor(auth: Auth, token = TOKENS.fuzzer): grpc.Metadata {
  if (auth === 'valid') return bearerMetadata(token);
  if (auth === 'wrong') return bearerMetadata('not-a-secret-anyone-holds');
  return new grpc.Metadata();
}

// ─── a seeded source of hostile values ────────────────────────────────────

class Picker {
  constructor(readonly next: () => number) {}
  int(n: number): number { return Math.floor(this.next() * n); }
  chance(p: number): boolean { return this.next() < p; }
  one<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** Ids the cluster really holds, so that some calls reach past "not found". */
const realIds: string[] = [];

/** What one random message may still hold: values, and bytes of strings (so that a message stays a few MB at most). */
interface Budget { values: number; bytes: number }

function hostileString(p: Picker, budget: Budget = { values: 1, bytes: 1e6 }): string {
  const s = pickString(p);
  if (s.length > budget.bytes) return 'over-budget';
  budget.bytes -= s.length;
  return s;
}

function pickString(p: Picker): string {
  switch (p.int(8)) {
    case 0: return '';
    case 1: return p.one(['*', '..', '.', '/', '/etc/shadow', '../../../etc/passwd', 'stdout', 'stderr', 'eng/ml', 'TASK_RUNNING', 'a b', '\u0000', '\ud800', '🦀', ...realIds]);
    case 2: return 'x'.repeat(p.one([199, 200, 201, 256, 257, 4097, 65_537, 300_000]));
    case 3: return p.bytes(p.int(40)).toString('latin1');
    case 4: return `fuzz-${p.int(1000)}`;
    default: return realIds.length && p.chance(0.5) ? p.one(realIds) : p.next().toString(36).slice(2, 2 + p.int(12));
  }
}

function hostileNumber(p: Picker, integer: boolean): number {
  const ints = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, 2 ** 53 - 1, -(2 ** 53), 1000, 1_000_000];
  if (integer) return p.chance(0.8) ? p.one(ints) : p.int(1e6) - 5e5;
  return p.one([...ints, 0.1, -0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -0, 5e-324, p.next() * 1e4]);
}

// ─── messages from the request types' descriptors ─────────────────────────

interface FieldDesc { name: string; type: string; label: string; typeName: string }
interface TypeDesc { name: string; field: FieldDesc[]; nestedType?: TypeDesc[]; enumType?: EnumDesc[]; options?: { mapEntry?: boolean } | null }
interface EnumDesc { name: string; value: { name: string; number: number }[] }

const FILES = ['resources', 'scheduler', 'agent', 'operator'].map((f) => `mezzanine/v1/${f}.proto`);
const definitions = protoLoader.loadSync(FILES, LOADER_OPTIONS);

/** A type name as a descriptor writes it (`Subscribe`, `Resource`), looked up from the innermost enclosing type outwards, then in the package. */
function resolve(name: string, scopes: TypeDesc[]): { message?: TypeDesc; enumeration?: EnumDesc } {
  // A dotted name (`CheckInfo.Type`): its first part as any name, the rest nested inside it.
  const [head, ...rest] = name.split('.');
  if (rest.length > 0) return resolve(rest.join('.'), [resolve(head!, scopes).message!]);
  for (let i = scopes.length - 1; i >= 0; i--) {
    const message = scopes[i]!.nestedType?.find((t) => t.name === name);
    if (message) return { message };
    const enumeration = scopes[i]!.enumType?.find((t) => t.name === name);
    if (enumeration) return { enumeration };
  }
  const top = definitions[`mezzanine.v1.${name}`] as { type: TypeDesc | EnumDesc } | undefined;
  if (!top) throw new Error(`type ${name} not found`);
  return 'field' in top.type ? { message: top.type } : { enumeration: top.type as EnumDesc };
}

/** A random message of `type`: each field set or not, hostile values, repeated fields up to thousands long (within `budget` values). */
function randomMessage(p: Picker, type: TypeDesc, scopes: TypeDesc[], depth: number, budget: Budget): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const inner = [...scopes, type];
  for (const f of type.field) {
    if (!p.chance(depth === 0 ? 0.7 : 0.5) || budget.values <= 0) continue;
    const ref = f.type === 'TYPE_MESSAGE' || f.type === 'TYPE_ENUM' ? resolve(f.typeName, inner) : {};
    if (ref.message?.options?.mapEntry) {
      const entries = p.chance(0.1) ? 200 : p.int(4);
      out[f.name] = Object.fromEntries(Array.from({ length: entries }, () => [hostileString(p, budget), hostileString(p, budget)]));
      budget.values -= entries;
      continue;
    }
    const value = (): unknown => {
      budget.values--;
      switch (f.type) {
        case 'TYPE_STRING': return hostileString(p, budget);
        case 'TYPE_BYTES': return p.bytes(p.chance(0.05) && budget.bytes > 300_000 ? 300_000 : p.int(64));
        case 'TYPE_BOOL': return p.chance(0.5);
        case 'TYPE_DOUBLE': case 'TYPE_FLOAT': return hostileNumber(p, false);
        case 'TYPE_ENUM': return p.chance(0.5) ? p.one(ref.enumeration!.value).name : p.int(2000) - 10;
        case 'TYPE_MESSAGE': return depth >= 5 ? {} : randomMessage(p, ref.message!, inner, depth + 1, budget);
        default: return hostileNumber(p, true);
      }
    };
    if (f.label === 'LABEL_REPEATED') {
      const n = p.chance(0.05) ? p.one([1001, 5000]) : p.int(4);
      out[f.name] = Array.from({ length: Math.min(n, Math.max(0, budget.values)) }, value);
    } else out[f.name] = value();
  }
  return out;
}

// ─── the raw wire ─────────────────────────────────────────────────────────

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n % 128) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A valid message of any type that is `size` bytes long: one unknown length-delimited field (number 1000). */
function unknownFieldOf(size: number): Buffer {
  const tag = varint((1000 << 3) | 2);
  const len = varint(size);
  return Buffer.concat([tag, len, Buffer.alloc(size, 0x61)]);
}

/** 100,000 nested start-group tags (field 1000, wire type 3) with their end tags: valid protobuf, nested deeper than any decoder recurses. */
function deepGroups(): Buffer {
  const start = varint((1000 << 3) | 3);
  const end = varint((1000 << 3) | 4);
  return Buffer.concat([Buffer.concat(Array(100_000).fill(start)), Buffer.concat(Array(100_000).fill(end))]);
}
const DEEP = deepGroups();

interface Method {
  service: string;
  name: string;
  path: string;
  stream: boolean;
  requestType: TypeDesc;
  serialize(v: unknown): Buffer;
  deserialize(b: Buffer): unknown;
  /** The server's cap on what it takes in one message. */
  cap: number;
  /** Where it is served: 'master' or 'agent'. */
  on: 'master' | 'agent';
}

function methodsOf(service: 'Scheduler' | 'AgentGateway' | 'Operator' | 'AgentFiles'): Method[] {
  const def = (mezzProto() as unknown as Record<string, { service: Record<string, {
    path: string; requestStream: boolean; requestSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): unknown; requestType: { type: TypeDesc };
  }> }>)[service]!.service;
  const on = service === 'AgentFiles' ? 'agent' : 'master';
  return Object.entries(def).map(([name, m]) => ({
    service, name, path: m.path, stream: m.requestStream, requestType: m.requestType.type,
    serialize: (v) => m.requestSerialize(v), deserialize: (b) => m.responseDeserialize(b),
    cap: on === 'agent' ? MAX_FILES_REQUEST_BYTES : MAX_MASTER_MESSAGE_BYTES, on,
  }));
}

type Kind = 'random' | 'garbage' | 'deep' | 'oversized' | 'then-garbage' | 'cancelled';

/** One message of a case: its bytes, and what they hold in a line (long strings and arrays elided) for a failure to show. */
interface Payload { bytes: Buffer; shape: string }

function payload(p: Picker, m: Method, kind: Kind): Payload {
  switch (kind) {
    case 'garbage': {
      const bytes = p.chance(0.5) ? p.bytes(1 + p.int(300)) : Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]); // a length running past the end
      return { bytes, shape: `${bytes.length} garbage bytes` };
    }
    case 'deep': return { bytes: DEEP, shape: '100,000 nested groups' };
    case 'oversized': return { bytes: unknownFieldOf(m.cap + 1024), shape: `${m.cap + 1024} bytes in an unknown field` };
    default: {
      const msg = randomMessage(p, m.requestType, [], 0, { values: 20_000, bytes: 2_000_000 });
      const shape = JSON.stringify(msg, (_k, v: unknown) => (typeof v === 'string' && v.length > 40 ? `<${v.length} characters>`
        : Array.isArray(v) && v.length > 10 ? `<${v.length} values>` : Buffer.isBuffer(v) ? `<${v.length} bytes>` : v)).slice(0, 600);
      try {
        return { bytes: m.serialize(msg), shape };
      } catch {
        return { bytes: p.bytes(16), shape: `16 garbage bytes (the encoder refused ${shape})` };
      }
    }
  }
}

interface Outcome {
  method: string; kind: Kind; auth: Auth; code: grpc.status; details: string; ms: number; received: number;
  /** What was sent, in a line. */
  sent: string;
}

const identity = (b: Buffer): Buffer => b;

function unaryCase(client: grpc.Client, m: Method, bytes: Buffer, auth: Auth): Promise<Omit<Outcome, 'kind' | 'auth' | 'sent'>> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, identity, identity, bytes, metadataFor(auth), { deadline: started + CALL_DEADLINE_MS }, (err, res) => {
      const method = `${m.service}.${m.name}`;
      try {
        if (res) m.deserialize(res);
      } catch (e) {
        return reject(new Error(`${method} answered a message that does not decode: ${(e as Error).message}`));
      }
      resolve({ method, code: err?.code ?? grpc.status.OK, details: err?.details ?? '', ms: Date.now() - started, received: res ? 1 : 0 });
    });
  });
}

/** A bidirectional stream: `messages` written in turn, then half-closed (or cancelled after `cancelAfterMs`); resolves with how it ended. */
function streamCase(client: grpc.Client, m: Method, messages: Buffer[], auth: Auth, cancelAfterMs?: number): Promise<Omit<Outcome, 'kind' | 'auth' | 'sent'>> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const call = client.makeBidiStreamRequest(m.path, identity, identity, metadataFor(auth), { deadline: started + CALL_DEADLINE_MS });
    let received = 0;
    call.on('data', (b: Buffer) => {
      try {
        m.deserialize(b);
        received++;
      } catch (err) {
        reject(new Error(`${m.service}.${m.name} sent a message that does not decode: ${(err as Error).message}`));
      }
    });
    call.on('error', () => undefined); // the status below says how it ended
    call.on('status', (s: grpc.StatusObject) => resolve({ method: `${m.service}.${m.name}`, code: s.code, details: s.details, ms: Date.now() - started, received }));
    for (const b of messages) call.write(b);
    if (cancelAfterMs === undefined) call.end();
    else setTimeout(() => call.cancel(), cancelAfterMs);
  });
}

/** One case against `m`, its kind and auth picked from `p`. */
async function fuzzOnce(p: Picker, m: Method, client: grpc.Client): Promise<Outcome> {
  const kinds: Kind[] = m.stream
    ? ['random', 'random', 'random', 'garbage', 'deep', 'oversized', 'then-garbage', 'cancelled']
    : ['random', 'random', 'random', 'random', 'garbage', 'deep', 'oversized'];
  const kind = p.one(kinds);
  const auth: Auth = p.chance(0.7) ? 'valid' : p.chance(0.5) ? 'none' : 'wrong';
  const sent = kind === 'then-garbage' ? [payload(p, m, 'random'), payload(p, m, 'garbage')]
    : kind === 'cancelled' ? [payload(p, m, 'random'), payload(p, m, 'random')]
      : Array.from({ length: m.stream && kind === 'random' ? 1 + p.int(4) : 1 }, () => payload(p, m, kind));
  const bytes = sent.map((s) => s.bytes);
  const r = !m.stream ? await unaryCase(client, m, bytes[0]!, auth)
    : await streamCase(client, m, bytes, auth, kind === 'cancelled' ? p.int(50) : undefined);
  return { ...r, kind, auth, sent: sent.map((s) => s.shape).join(' | ') };
}

/** Why `o` breaks the rules, or undefined. */
function problemOf(o: Outcome): string | undefined {
  const what = `${o.method} (${o.kind}, token ${o.auth}: ${o.sent}) ended ${grpc.status[o.code]} after ${o.ms} ms: ${JSON.stringify(o.details.slice(0, 200))}`;
  if (o.code === grpc.status.DEADLINE_EXCEEDED) return `${what}: it hung`;
  if (o.code !== grpc.status.OK && !o.details.trim()) return `${what}: a refusal without details`;
  if (o.ms > CALL_DEADLINE_MS + 2000) return `${what}: past its deadline`;
  // Bytes the transport refuses (too large, not protobuf) may be refused before the token is read.
  const beforeAuth = o.kind === 'oversized' || o.kind === 'garbage' || o.kind === 'deep' || o.kind === 'then-garbage';
  if (o.auth !== 'valid' && o.kind !== 'cancelled' && o.code !== grpc.status.UNAUTHENTICATED && !beforeAuth) return `${what}: expected UNAUTHENTICATED`;
  if (o.kind === 'oversized' && o.code !== grpc.status.RESOURCE_EXHAUSTED && !(o.auth !== 'valid' && o.code === grpc.status.UNAUTHENTICATED)) {
    return `${what}: expected RESOURCE_EXHAUSTED`;
  }
  if (o.kind === 'oversized' && o.code === grpc.status.RESOURCE_EXHAUSTED && !/larger than max/.test(o.details)) return `${what}: the refusal does not name the limit`;
  return undefined;
}

// ─── the test ─────────────────────────────────────────────────────────────

/** A framework over the raw scheduler stream, with a token: resolves the events it receives as they come. */
function frameworkStream(address: string, token: string) {
  const client = new (mezzProto().Scheduler)(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS) as unknown as grpc.Client & {
    subscribe(metadata: grpc.Metadata): grpc.ClientDuplexStream<Call, Event__Output>;
  };
  const events: Event__Output[] = [];
  const stream = client.subscribe(bearerMetadata(token));
  stream.on('data', (e: Event__Output) => events.push(e));
  stream.on('error', () => undefined);
  return {
    events, stream,
    close: () => {
      stream.cancel();
      client.close();
    },
  };
}

describe('fuzzing every gRPC method (authentication on)', { timeout: 120_000 }, () => {
  const cluster = new Cluster();
  let master: Proc;
  let agent: Proc;
  const clients: grpc.Client[] = [];

  before(async () => {
    const creds = path.join(cluster.dir, 'credentials.json');
    writeFileSync(creds, JSON.stringify({ credentials: Object.entries(TOKENS).map(([principal, secret]) => ({ principal, secret })) }), { mode: 0o600 });
    const agentCreds = path.join(cluster.dir, 'agent-credentials.json');
    writeFileSync(agentCreds, JSON.stringify({ credentials: [{ principal: 'agent', secret: TOKENS.agent }] }), { mode: 0o600 });
    const quietLogs = { MEZZ_LOG_LEVEL: 'warn' };
    // A slow SUBSCRIBE rate, so that the burst below meets it however slowly this machine delivers the burst.
    master = await cluster.startMaster({ args: ['--credentials', creds, '--subscribe-rate', '2', '--subscribe-burst', '10'], env: quietLogs });
    agent = await cluster.startAgent(master.address, { args: ['--credentials', agentCreds], env: quietLogs });
    // A running task, so that file reads and kills can reach a real sandbox.
    const fw = frameworkStream(master.address, TOKENS.fuzzer);
    fw.stream.write({ subscribe: { framework: { name: 'fuzz-setup', roles: ['*'] } } });
    const offer = await waitFor('an offer', () => fw.events.flatMap((e) => e.offers?.offers ?? [])[0]);
    fw.stream.write({ frameworkId: offer.frameworkId, accept: { offerIds: [offer.id], operations: [{ launch: { taskInfos: [task('fuzz-task', 'echo hello; sleep 60')] } }] } });
    await waitFor('fuzz-task running', () => fw.events.some((e) => e.update?.status?.taskId === 'fuzz-task' && e.update.status.state === 'TASK_RUNNING'));
    realIds.push('fuzz-task', offer.frameworkId, offer.agentId);
    fw.close();
  });
  after(async () => {
    for (const c of clients) c.close();
    await cluster.teardown();
  });

  test(`every method, ${FUZZ_MS / 1000} s from seed ${SEED}: no crash, no hang, a status with details for everything, UNAUTHENTICATED without a token`, async () => {
    const methods = [...methodsOf('Scheduler'), ...methodsOf('AgentGateway'), ...methodsOf('Operator'), ...methodsOf('AgentFiles')];
    assert.ok(methods.some((m) => m.name === 'KillTask') && methods.some((m) => m.name === 'TeardownFramework'));
    const clientOf = (address: string): grpc.Client => {
      const c = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
      clients.push(c);
      return c;
    };
    const outcomes: Outcome[] = [];
    const problems: string[] = [];
    const until = Date.now() + FUZZ_MS;
    await Promise.all(Array.from({ length: WORKERS }, async (_, w) => {
      const p = new Picker(seededRng(SEED + w));
      // One connection to each server per worker, as a client holds: a case must not spoil it for the next (an
      // oversized status trailer once broke the whole connection).
      const client = { master: clientOf(master.address), agent: clientOf(agent.address) };
      // Round-robin over the methods, so that every one is fuzzed however slow the machine.
      for (let i = w; Date.now() < until; i++) {
        const m = methods[i % methods.length]!;
        const o = await fuzzOnce(p, m, client[m.on]);
        outcomes.push(o);
        const problem = problemOf(o);
        if (problem) problems.push(problem);
      }
    }));
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} of ${outcomes.length} cases broke the rules`);
    for (const m of methods) {
      const mine = outcomes.filter((o) => o.method === `${m.service}.${m.name}`);
      assert.ok(mine.length >= 3, `${m.service}.${m.name} was fuzzed ${mine.length} times`);
    }
    for (const kind of ['random', 'garbage', 'oversized', 'deep'] as const) assert.ok(outcomes.some((o) => o.kind === kind), `no ${kind} case ran`);
    assert.ok(outcomes.some((o) => o.auth !== 'valid' && o.code === grpc.status.UNAUTHENTICATED), 'no call was refused for its token');
    assert.ok(outcomes.some((o) => o.code === grpc.status.RESOURCE_EXHAUSTED && o.method.startsWith('AgentFiles')), 'the agent never refused an oversized request');

    // Both processes survived, and the master still serves.
    assert.equal(master.child.exitCode, null, `the master exited:\n${master.output().slice(-3000)}`);
    assert.equal(agent.child.exitCode, null, `the agent exited:\n${agent.output().slice(-3000)}`);
    assert.doesNotMatch(master.output(), /uncaught|unhandled/i);
    const operator = new (mezzProto().Operator)(master.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    clients.push(operator);
    const state = await new Promise<{ agentsActive: number }>((resolve, reject) => {
      operator.getState({}, bearerMetadata(TOKENS.fuzzer), { deadline: Date.now() + CALL_DEADLINE_MS }, (err, s) => (err ? reject(err) : resolve(s!)));
    });
    assert.ok(state.agentsActive >= 1, 'the real agent is still active');
    const fw = frameworkStream(master.address, TOKENS.after);
    try {
      fw.stream.write({ subscribe: { framework: { name: 'after-the-fuzz', roles: ['*'] } } });
      await waitFor('SUBSCRIBED after the fuzz', () => fw.events.find((e) => e.subscribed || e.error?.fatal));
      assert.ok(fw.events.some((e) => e.subscribed), JSON.stringify(fw.events[0]));
      await waitFor('an offer of the real agent', () => fw.events.some((e) => e.offers?.offers?.some((o) => o.agentId === realIds[2])));
    } finally {
      fw.close();
    }
  });

  test('a burst of SUBSCRIBEs from one principal meets the rate limit, told when to retry', async () => {
    // 40 at once against a burst of 10 and 2 a second: some are refused unless they take over 15 s to arrive.
    const streams = Array.from({ length: 40 }, (_, i) => {
      const fw = frameworkStream(master.address, TOKENS.burst);
      fw.stream.write({ subscribe: { framework: { name: `burst-${i}`, roles: ['*'] } } });
      return fw;
    });
    try {
      const firsts = await Promise.all(streams.map((fw) => waitFor('an answer to SUBSCRIBE', () => fw.events.find((e) => e.subscribed || e.error?.fatal))));
      const refused = firsts.filter((e) => e.error);
      assert.ok(refused.length >= 1, 'none was refused');
      for (const e of refused) {
        assert.equal(e.error!.kind, 'RESOURCE_EXHAUSTED');
        assert.match(e.error!.message, /principal "burst": SUBSCRIBEs exceed 2 a second \(burst 10; --subscribe-rate, --subscribe-burst\); retry in \d+/);
      }
      assert.ok(firsts.filter((e) => e.subscribed).length >= 10, 'the burst itself was let through');
    } finally {
      for (const fw of streams) fw.close();
    }
  });
});
