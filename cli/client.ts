/**
 * The CLI's view of the master: unary Operator calls with a deadline,
 * trying each given master in turn and following the leader a standby
 * names (lib/leader-follower, the policy every client shares; the CLI
 * does not wait between attempts). gRPC failures become CliErrors with a
 * message a person can act on.
 */
import * as grpc from '@grpc/grpc-js';
import type { ErrorKind } from '../lib/errors';
import { type ClientSecurity, makeClient } from '../lib/auth';
import { describeGrpcError, errorKindOf, leaderOf } from '../lib/grpc';
import { LeaderFollower } from '../lib/leader-follower';
import { mezzProto, type OperatorClient } from '../lib/proto';
import { CliError } from './errors';

/** The Operator methods, by their camelCase client names. */
export type OperatorMethod =
  | 'getState' | 'getVersion' | 'listAgents' | 'listFrameworks' | 'listTasks' | 'listRoles' | 'updateWeights' | 'readTaskFile'
  | 'getLeader' | 'killTask' | 'teardownFramework';

// Request and response types read off the generated client, whose last
// overload of each method is `(argument, callback)`.
type LastOverload<M extends OperatorMethod> = Parameters<OperatorClient[M]>;
export type RequestOf<M extends OperatorMethod> = LastOverload<M>[0];
export type ResponseOf<M extends OperatorMethod> = LastOverload<M>[1] extends grpc.requestCallback<infer R> ? R : never;

/**
 * Kinds after which another master may do better: it is down, slow, or a
 * standby. (FAILED_PRECONDITION is not one: masters use it for "this task
 * has not started yet" and the like, which another master would say too.)
 */
const TRY_NEXT: ReadonlySet<ErrorKind> = new Set(['UNAVAILABLE', 'NOT_LEADER']);
/** Leaders named in a row that the CLI follows before giving up on them. */
const MAX_REDIRECTS = 3;
/** The one sentence for "no master answered". */
export function unreachableMessage(failures: { address: string; reason: string }[]): string {
  if (failures.length === 1) {
    const f = failures[0]!;
    return `cannot reach the master at ${f.address} (${f.reason}); is it running? start one with 'mezz up'`;
  }
  const list = failures.map((f) => `${f.address}: ${f.reason}`).join('; ');
  return `cannot reach any master (${list}); is one running? start one with 'mezz up'`;
}

/**
 * Operator calls against a list of masters. The first master that answers
 * is remembered for later calls. Call `close()` when done so that the
 * process can exit.
 */
export class OperatorConnection {
  readonly #masters: string[];
  readonly #timeoutMs: number;
  readonly #security: ClientSecurity | undefined;
  readonly #clients = new Map<string, OperatorClient>();
  #preferred: string | undefined;

  constructor(masters: string[], timeoutMs: number, security?: ClientSecurity) {
    this.#masters = masters;
    this.#timeoutMs = timeoutMs;
    this.#security = security;
  }

  /**
   * Calls `method` on the first master that answers. Throws CliError: with
   * the master's own message when it refused the call (e.g.
   * `INVALID_ARGUMENT: …`), or "cannot reach" when none answered.
   */
  async call<M extends OperatorMethod>(method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
    const order = this.#preferred ? [this.#preferred, ...this.#masters.filter((m) => m !== this.#preferred)] : this.#masters;
    const follower = new LeaderFollower(order, { maxRedirects: MAX_REDIRECTS });
    const tried = new Set<string>();
    const failures: { address: string; reason: string }[] = [];
    for (let n = 0; n < 2 * order.length + MAX_REDIRECTS; n++) {
      const { address, redirected } = follower.next();
      if (!redirected && tried.has(address)) {
        if (order.every((m) => tried.has(m))) break;
        follower.failed(); // on to the next address of the list
        continue;
      }
      tried.add(address);
      try {
        const response = await this.#unary(address, method, request);
        this.#preferred = address;
        return response;
      } catch (e) {
        const err = e as grpc.ServiceError;
        if (typeof err.code !== 'number') throw e;
        if (!TRY_NEXT.has(errorKindOf(err))) throw new CliError(describeGrpcError(err), 1, { cause: err });
        failures.push({ address, reason: describeGrpcError(err) });
        // One shot: a standby that names no leader sends the CLI to the next address, not back to itself.
        follower.failed({ leader: leaderOf(err) });
      }
    }
    throw new CliError(unreachableMessage(failures));
  }

  /** Calls `method` on exactly this master: no failover, no hints. Rejects with the gRPC error. */
  callAt<M extends OperatorMethod>(address: string, method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
    return this.#unary(address, method, request);
  }

  close(): void {
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }

  #client(address: string): OperatorClient {
    let c = this.#clients.get(address);
    if (!c) {
      c = makeClient(mezzProto().Operator, address, this.#security);
      this.#clients.set(address, c);
    }
    return c;
  }

  #unary<M extends OperatorMethod>(address: string, method: M, request: RequestOf<M>): Promise<ResponseOf<M>> {
    const client = this.#client(address);
    // The generated overloads cannot be called through a union of method
    // names, so call the one shape every method shares.
    const fn = client[method] as unknown as (
      req: RequestOf<M>, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: ResponseOf<M>) => void,
    ) => grpc.ClientUnaryCall;
    return new Promise((resolve, reject) => {
      fn.call(client, request, { deadline: Date.now() + this.#timeoutMs }, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }
}
