/**
 * The master's registry: the small durable state that lets a restarted or
 * newly elected master recognise the cluster (after Mesos' registrar).
 * Admitted agents, removed agents, frameworks with their failover
 * timeouts, removed frameworks and role weights — never tasks: the agents
 * are the truth about tasks and report them when they re-register.
 *
 * Writes happen on changes of membership only; an agent that re-registers
 * and is already admitted costs no write.
 *
 * Keys end in the id they are about, encoded with encodeURIComponent, so an
 * id holding a `/` (`x/<victim id>`) is one key segment and can never be
 * read back as another id. `load` skips a malformed record with one warning
 * naming its key rather than failing: one bad record must not stop every
 * master that is elected (each would step down, and the next fail alike).
 */
import { errorMessage, MezzError } from '../lib/errors';
import { describe, idProblem, roleProblem } from '../lib/limits';
import type { Store, TxnCompare, TxnOp } from '../lib/store';
import type { FrameworkInfo__Output } from '../lib/proto';

/** A registry write was refused because this master no longer leads. */
export class FencedError extends MezzError {
  override name = 'FencedError';
  constructor() {
    super('this master is no longer the leader: its registry write was fenced off', 'UNAVAILABLE');
  }
}

export interface AdmittedAgent {
  id: string;
  hostname: string;
  admittedAt: number;
  /** SHA-256 (hex) of the agent token issued with the id; absent in records written before agents had tokens. */
  tokenHash?: string;
}

export interface RegisteredFramework {
  id: string;
  info: FrameworkInfo__Output;
  registeredAt: number;
}

export interface RegistrySnapshot {
  agents: AdmittedAgent[];
  removedAgents: Set<string>;
  frameworks: RegisteredFramework[];
  removedFrameworks: Set<string>;
  weights: Map<string, number>;
}

/**
 * Every write is a transaction guarded by the leadership's fence (empty for
 * the embedded store), so a deposed leader can never overwrite what its
 * successor wrote. A fenced write calls `onFenced` and throws FencedError.
 */
export class Registry {
  private readonly prefix: string;

  constructor(
    private readonly store: Store,
    cluster: string,
    private readonly fence: readonly TxnCompare[] = [],
    private readonly onFenced: () => void = () => undefined,
  ) {
    this.prefix = `/mezzanine/${cluster}/registry/`;
  }

  private async write(ops: TxnOp[]): Promise<void> {
    if (!(await this.store.txn(this.fence, ops))) {
      this.onFenced();
      throw new FencedError();
    }
  }

  /**
   * Reads the whole registry. Never throws for a malformed record (a value
   * of the wrong shape, a key whose id is not a valid id or disagrees with
   * the record): it is left out and `warn` is called once for it, naming its
   * key. Rejects only when the store itself cannot be read.
   */
  async load(warn: (message: string) => void): Promise<RegistrySnapshot> {
    const [agents, removedAgents, frameworks, removedFrameworks, weights] = await Promise.all([
      this.store.list<unknown>(`${this.prefix}agents/`),
      this.store.list<unknown>(`${this.prefix}removed-agents/`),
      this.store.list<unknown>(`${this.prefix}frameworks/`),
      this.store.list<unknown>(`${this.prefix}removed-frameworks/`),
      this.store.list<unknown>(`${this.prefix}weights/`),
    ]);
    /**
     * Reads each record of `kind` with `read`, given the id decoded from its
     * key and the value; `read` returns the item, or a Skip saying why not.
     */
    const each = <T>(kind: string, list: { key: string; value: unknown }[], read: (id: string, value: unknown) => T | Skip): T[] => {
      const out: T[] = [];
      const start = `${this.prefix}${kind}/`.length;
      for (const kv of list) {
        let why: string;
        try {
          const got = read(decodeURIComponent(kv.key.slice(start)), kv.value);
          if (!(got instanceof Skip)) {
            out.push(got);
            continue;
          }
          why = got.why;
        } catch (err) {
          why = errorMessage(err); // a malformed %-escape in the key
        }
        warn(`registry record ${describe(kv.key, 160)} is malformed and was skipped: ${why}`);
      }
      return out;
    };
    return {
      agents: each('agents', agents, (id, v) => {
        const a = v as AdmittedAgent;
        return skip(recordIdProblem(id, v) ?? (typeof a.hostname !== 'string' ? 'hostname is not a string' : undefined) ??
          timestampProblem(a.admittedAt, 'admittedAt') ?? (a.tokenHash === undefined || /^[0-9a-f]{64}$/.test(a.tokenHash) ? undefined : 'tokenHash is not a SHA-256 in hex')) ??
          { id, hostname: a.hostname, admittedAt: a.admittedAt, ...(a.tokenHash ? { tokenHash: a.tokenHash } : {}) };
      }),
      removedAgents: new Set(each('removed-agents', removedAgents, (id, at) => skip(idProblem('the id in its key', id) ?? timestampProblem(at, 'the removal time')) ?? id)),
      frameworks: each('frameworks', frameworks, (id, v) => {
        const f = v as RegisteredFramework;
        return skip(recordIdProblem(id, v) ?? timestampProblem(f.registeredAt, 'registeredAt') ?? frameworkInfoProblem(f.info)) ??
          { id, info: { ...f.info, roles: f.info.roles ?? [], capabilities: f.info.capabilities ?? [] }, registeredAt: f.registeredAt };
      }),
      removedFrameworks: new Set(each('removed-frameworks', removedFrameworks, (id, at) =>
        skip(idProblem('the id in its key', id) ?? timestampProblem(at, 'the removal time')) ?? id)),
      weights: new Map(each('weights', weights, (role, w) =>
        skip(roleProblem(role) ?? (typeof w === 'number' && Number.isFinite(w) && w > 0 ? undefined : `weight ${String(w)} is not a positive number`)) ??
          [role, w as number] as [string, number])),
    };
  }

  /** The key of `id` under `kind`: the id encoded as one segment. */
  private key(kind: string, id: string): string {
    return `${this.prefix}${kind}/${encodeURIComponent(id)}`;
  }

  /** Deletes of `id`'s record under `kind`: the encoded key, and the raw one older versions wrote (`:` and `@` were not encoded). */
  private deletes(kind: string, id: string): TxnOp[] {
    const raw = `${this.prefix}${kind}/${id}`;
    const key = this.key(kind, id);
    return raw === key ? [{ op: 'delete', key }] : [{ op: 'delete', key }, { op: 'delete', key: raw }];
  }

  admitAgent(agent: AdmittedAgent): Promise<void> {
    return this.write([{ op: 'put', key: this.key('agents', agent.id), value: agent }]);
  }

  /** Removes an agent for good; if it comes back it is told to shut down. */
  async removeAgent(id: string, at: number): Promise<void> {
    await this.write([...this.deletes('agents', id), { op: 'put', key: this.key('removed-agents', id), value: at }]);
  }

  putFramework(fw: RegisteredFramework): Promise<void> {
    return this.write([{ op: 'put', key: this.key('frameworks', fw.id), value: fw }]);
  }

  async removeFramework(id: string, at: number): Promise<void> {
    await this.write([...this.deletes('frameworks', id), { op: 'put', key: this.key('removed-frameworks', id), value: at }]);
  }

  async putWeights(weights: ReadonlyMap<string, number>): Promise<void> {
    await this.write([...weights].map(([role, w]) => ({
      op: 'put' as const, key: this.key('weights', role), value: w,
    })));
  }
}

/** Why `load` leaves a record out. */
class Skip {
  constructor(readonly why: string) {}
}

/** A Skip for a problem, or undefined for none. */
function skip(problem: string | undefined): Skip | undefined {
  return problem === undefined ? undefined : new Skip(problem);
}

function timestampProblem(v: unknown, name: string): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? undefined : `${name} is not a number`;
}

/** Why an agent or framework record does not belong at the key holding `id`, or undefined. */
function recordIdProblem(id: string, value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the value is not an object';
  const problem = idProblem('the id in its key', id);
  if (problem) return problem;
  const inRecord = (value as { id?: unknown }).id;
  if (inRecord !== id) return `the record's id ${typeof inRecord === 'string' ? describe(inRecord) : String(inRecord)} is not the one in its key`;
  return undefined;
}

/** Why a stored FrameworkInfo cannot be used, or undefined; missing lists are read as empty. */
function frameworkInfoProblem(info: unknown): string | undefined {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) return 'info is missing';
  const i = info as Record<string, unknown>;
  if (typeof i.name !== 'string') return 'info.name is not a string';
  for (const list of ['roles', 'capabilities'] as const) {
    const v = i[list];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) return `info.${list} is not a list of strings`;
  }
  if (i.failoverTimeout !== undefined && i.failoverTimeout !== null && typeof i.failoverTimeout !== 'number') return 'info.failoverTimeout is not a number';
  if (i.offerConstraints !== undefined && i.offerConstraints !== null && !offerConstraintsShaped(i.offerConstraints)) {
    return 'info.offerConstraints is not role → {groups: [{constraints: [...]}]}';
  }
  return undefined;
}

/** Whether stored offer constraints have the shape the master compiles (their content was checked when they were accepted). */
function offerConstraintsShaped(v: unknown): boolean {
  const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  return isObject(v) && Object.values(v).every((role) => isObject(role) && Array.isArray(role.groups ?? [])
    && ((role.groups ?? []) as unknown[]).every((g) => isObject(g) && Array.isArray(g.constraints ?? [])
      && ((g.constraints ?? []) as unknown[]).every(isObject)));
}
