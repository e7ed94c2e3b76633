/**
 * gRPC glue for the Operator service: read-only views of the master's state
 * for the CLI, weight updates, and sandbox file reads proxied to agents.
 */
import { bearerMetadata, type Caller, makeClient } from '../lib/auth';
import { describeGrpcError, errorKindOf, unary } from '../lib/grpc';
import { type ErrorKind, InvalidArgumentError, MezzError, UnavailableError } from '../lib/errors';
import { describe, idProblem, MAX_TASKS_PER_PAGE, roleProblem, truncate } from '../lib/limits';
import { mezzProto, TASK_STATES, type AgentFilesClient, type ReadFileResponse, type TaskSummary } from '../lib/proto';
import type { KillTaskRequest__Output } from '../lib/proto/generated/mezzanine/v1/KillTaskRequest';
import type { ListTasksRequest__Output } from '../lib/proto/generated/mezzanine/v1/ListTasksRequest';
import type { ReadFileRequest__Output } from '../lib/proto/generated/mezzanine/v1/ReadFileRequest';
import type { TeardownFrameworkRequest__Output } from '../lib/proto/generated/mezzanine/v1/TeardownFrameworkRequest';
import type { UpdateWeightsRequest__Output } from '../lib/proto/generated/mezzanine/v1/UpdateWeightsRequest';
import * as res from '../lib/resources';
import { VERSION } from '../lib/version';
import type { OperatorHandlers } from '../lib/proto/generated/mezzanine/v1/Operator';
import { dominantShare } from './allocator';
import { UnknownTaskError } from './errors';
import type { Master } from './master';
import type { LeaderSource } from './leader-source';
import type { TaskRecord } from './state';

/** An agent's refusals of a file read that are the caller's to fix, passed on as they are. */
const CALLERS_MISTAKES: ReadonlySet<ErrorKind> = new Set(['INVALID', 'NOT_FOUND', 'PERMISSION_DENIED']);

const STATES: ReadonlySet<string> = new Set(TASK_STATES);

/**
 * Characters of a task's name, command and status message a summary carries:
 * enough to recognise a task in a table, and a page of MAX_TASKS_PER_PAGE
 * summaries stays near 1 MB (1000 × 3 × 300 characters, plus ids) whatever
 * the tasks were launched with.
 */
export const SUMMARY_TEXT = 300;

function taskSummary(t: TaskRecord): TaskSummary {
  return {
    id: t.id, name: truncate(t.info.name ?? '', SUMMARY_TEXT), frameworkId: t.frameworkId, agentId: t.agentId,
    state: String(t.status.state ?? 'TASK_UNKNOWN'), resources: res.scalars(t.resources),
    message: truncate(t.status.message ?? '', SUMMARY_TEXT), exitCode: t.status.exitCode ?? undefined,
    updatedAt: Number(t.status.timestamp ?? 0), command: truncate(t.info.command?.value ?? '', SUMMARY_TEXT), role: t.role,
  };
}

/**
 * A task's place in the listing order: framework id, task id, then agent and
 * update time to tell apart runs of a reused task id. NUL never occurs in an
 * id, so comparing keys as strings orders by each part in turn.
 */
function pageKey(t: TaskRecord): string {
  return [t.frameworkId, t.id, t.agentId, String(Number(t.status.timestamp ?? 0)).padStart(24, '0')].join('\0');
}

/** A page token is the key of the page's last task, base64url: opaque to callers, checked on the way back. */
const MAX_PAGE_TOKEN = 2048;

function decodePageToken(token: string): string {
  if (!token) return '';
  const key = token.length <= MAX_PAGE_TOKEN && /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (key.split('\0').length !== 4) {
    throw new InvalidArgumentError(`page_token of ${token.length} characters is not one this master issued; pass a previous response's next_page_token, or none for the first page`);
  }
  return key;
}

/**
 * One page of `tasks` in listing order: at most `limit` (0, or more than
 * MAX_TASKS_PER_PAGE: MAX_TASKS_PER_PAGE) after the task `pageToken` ended
 * the previous page at. Pages resume after a key, not at a position, so a
 * task that finishes between two calls (and moves in the master's lists) is
 * neither skipped nor listed twice. Throws InvalidArgumentError for a token
 * this master did not issue.
 */
export function taskPage(tasks: Iterable<TaskRecord>, req: { limit: number; pageToken: string }): { tasks: TaskSummary[]; nextPageToken: string } {
  const limit = req.limit > 0 && req.limit < MAX_TASKS_PER_PAGE ? req.limit : MAX_TASKS_PER_PAGE;
  const after = decodePageToken(req.pageToken);
  const rest: { key: string; task: TaskRecord }[] = [];
  for (const task of tasks) {
    const key = pageKey(task);
    if (key > after) rest.push({ key, task });
  }
  rest.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const page = rest.slice(0, limit);
  return {
    tasks: page.map((p) => taskSummary(p.task)),
    nextPageToken: rest.length > limit ? Buffer.from(page.at(-1)!.key, 'utf8').toString('base64url') : '',
  };
}

/** Roles whose weights one UpdateWeights may set: one registry transaction, below etcd's 128 operations. */
const MAX_WEIGHTS_PER_CALL = 100;
/** Agent file-server clients kept open for reuse (one per agent read recently). */
const FILE_CLIENTS = 64;

export function operatorHandlers(node: LeaderSource): OperatorHandlers {
  /** The leading Master, or UNAVAILABLE naming the leader. */
  const leader = (): Master => {
    const m = node.leading();
    if (!m) throw node.notLeader();
    return m;
  };
  // Clients of the agents' file servers, most recently used last; the least recently used is
  // closed beyond FILE_CLIENTS, so that agents coming and going over months leave no channels open.
  const fileClients = new Map<string, AgentFilesClient>();
  const filesClient = (address: string) => {
    let c = fileClients.get(address);
    fileClients.delete(address);
    c ??= makeClient(mezzProto().AgentFiles, address, node.tls ? { tls: node.tls } : undefined);
    fileClients.set(address, c);
    if (fileClients.size > FILE_CLIENTS) {
      const [oldest, client] = fileClients.entries().next().value!;
      fileClients.delete(oldest);
      client.close();
    }
    return c;
  };

  /**
   * A handler of an authenticated call, given its caller. A call without
   * valid credentials was refused, with its audit line, by the server's
   * interceptor (lib/auth authInterceptor) before it got here.
   */
  const authed = <Req, Res>(fn: (req: Req, caller: Caller) => Promise<Res> | Res) =>
    unary<Req, Res>((req, call) => fn(req, node.auth.fromGrpc(call)));
  /** The leader, once the caller may view the cluster. */
  const viewer = (caller: Caller, method: string): Master => {
    const master = leader();
    master.access.authorize(caller, 'view', '*', `Operator.${method}`);
    return master;
  };

  return {
    GetState: authed(async (_req: unknown, caller) => {
      const master = viewer(caller, 'GetState');
      let total = res.empty();
      let used = res.empty();
      let offered = res.empty();
      const agents = [...master.agents.values()];
      for (const a of agents) {
        if (a.status !== 'ACTIVE') continue;
        total = res.add(total, a.total);
        used = res.add(used, a.used);
        offered = res.add(offered, a.offered);
      }
      const tasksByState: Record<string, number> = {};
      for (const t of master.allTasks()) {
        const s = String(t.status.state ?? 'TASK_UNKNOWN');
        tasksByState[s] = (tasksByState[s] ?? 0) + 1;
      }
      const fws = [...master.frameworks.values()];
      return {
        masterId: master.id, version: VERSION, cluster: node.cluster, address: node.address, startedAt: master.startedAt / 1000,
        masters: await node.candidates(),
        leader: true, agentsActive: agents.filter((a) => a.status === 'ACTIVE').length,
        agentsUnreachable: agents.filter((a) => a.status !== 'ACTIVE').length,
        frameworksActive: fws.filter((f) => f.status === 'ACTIVE').length,
        frameworksInactive: fws.filter((f) => f.status !== 'ACTIVE').length,
        tasksByState, total: res.scalars(total), used: res.scalars(used), offered: res.scalars(offered),
      };
    }),
    ListAgents: authed((_req: unknown, caller) => ({
      agents: [...viewer(caller, 'ListAgents').agents.values()].map((a) => ({
        id: a.id, hostname: a.hostname, address: a.address, state: a.status, resources: res.scalars(a.total),
        used: res.scalars(a.used), offered: res.scalars(a.offered), attributes: a.attributes,
        ports: res.formatRanges(a.total.ports), tasks: a.tasks.size, isolation: a.isolation, registeredAt: a.registeredAt / 1000,
      })),
    })),
    ListFrameworks: authed((_req: unknown, caller) => {
      const master = viewer(caller, 'ListFrameworks');
      return { frameworks: [...master.frameworks.values()].map((f) => {
        let used = res.empty();
        for (const t of f.tasks.values()) used = res.add(used, t.resources);
        let offered = res.empty();
        for (const id of f.offers) {
          const o = master.offers.get(id);
          if (o) offered = res.add(offered, o.resources);
        }
        return {
          id: f.id, name: f.info.name, roles: f.roles, state: f.status, failoverTimeout: f.failoverTimeout,
          capabilities: [...f.capabilities], used: res.scalars(used), offered: res.scalars(offered), tasks: f.tasks.size,
          suppressed: f.roles.every((r) => f.suppressedRoles.has(r)), registeredAt: f.registeredAt / 1000,
          webuiUrl: f.info.webuiUrl ?? '', principal: f.info.principal ?? '',
        };
      }) };
    }),
    ListTasks: authed((req: ListTasksRequest__Output, caller) => {
      const master = viewer(caller, 'ListTasks');
      const state = req.state.trim();
      if (state && !STATES.has(state)) {
        throw new InvalidArgumentError(`unknown task state ${describe(state)}; valid: ${[...STATES].join(', ')}`);
      }
      const matching = function* () {
        for (const t of master.allTasks()) {
          if (req.frameworkId && t.frameworkId !== req.frameworkId) continue;
          if (req.agentId && t.agentId !== req.agentId) continue;
          if (state && String(t.status.state) !== state) continue;
          yield t;
        }
      };
      return taskPage(matching(), req);
    }),
    ListRoles: authed((_req: unknown, caller) => rolesView(viewer(caller, 'ListRoles'))),
    UpdateWeights: authed(async (req: UpdateWeightsRequest__Output, caller) => {
      if (!req.weights.length) throw new InvalidArgumentError('no weights given; e.g. role=dev weight=2');
      if (req.weights.length > MAX_WEIGHTS_PER_CALL) {
        throw new InvalidArgumentError(`${req.weights.length} weights in one call; at most ${MAX_WEIGHTS_PER_CALL} (they are stored in one transaction): send them in batches`);
      }
      for (const w of req.weights) {
        if (!w.role.trim()) throw new InvalidArgumentError('a weight names no role');
        const badRole = roleProblem(w.role);
        if (badRole) throw new InvalidArgumentError(badRole);
        if (!(Number.isFinite(w.weight) && w.weight > 0)) {
          throw new InvalidArgumentError(`weight of role ${w.role} must be a positive number, got ${w.weight}`);
        }
      }
      const master = leader();
      for (const w of req.weights) master.access.authorize(caller, 'update_weights', w.role, `Operator.UpdateWeights to ${w.weight}`);
      await master.setWeights(req.weights);
      return rolesView(master);
    }),
    // Authenticated, but open to every principal: where the leader is and what it runs, nothing of the cluster's.
    GetVersion: authed(() => ({ version: VERSION, masterId: node.leading()?.id ?? '' })),
    GetLeader: authed(async () => ({
      leader: node.leaderAddress() ?? '', self: node.address, isLeader: !!node.leading(), candidates: await node.candidates(),
      masterId: node.leading()?.id ?? '',
    })),
    KillTask: authed((req: KillTaskRequest__Output, caller) => {
      if (!req.taskId) throw new InvalidArgumentError('no task id given');
      rejectBadId('task id', req.taskId);
      if (req.frameworkId) rejectBadId('framework id', req.frameworkId);
      const master = leader();
      const task = master.killTask(req.taskId, req.frameworkId, (fw) => master.access.onFramework(caller, 'kill_task', fw, `Operator.KillTask of task ${req.taskId}`));
      return { frameworkId: task.frameworkId, agentId: task.agentId };
    }),
    TeardownFramework: authed(async (req: TeardownFrameworkRequest__Output, caller) => {
      if (!req.frameworkId) throw new InvalidArgumentError('no framework id given');
      rejectBadId('framework id', req.frameworkId);
      const master = leader();
      return { tasks: await master.teardown(req.frameworkId, (fw) => master.access.onFramework(caller, 'teardown_framework', fw, 'Operator.TeardownFramework')) };
    }),
    ReadTaskFile: authed(async (req: ReadFileRequest__Output, caller): Promise<ReadFileResponse> => {
      if (!req.taskId) throw new InvalidArgumentError('no task id given');
      rejectBadId('task id', req.taskId);
      const master = leader();
      const task = master.findTask(req.taskId);
      if (!task) throw new UnknownTaskError(req.taskId);
      master.access.onFramework(caller, 'read_sandbox', master.frameworkOwner(task.frameworkId), `Operator.ReadTaskFile of task ${task.id}`);
      const agent = master.agents.get(task.agentId);
      if (!agent?.address || !agent.filesToken) throw new UnavailableError(`agent ${task.agentId} of task ${task.id} is not known or not connected`);
      const client = filesClient(agent.address);
      const metadata = bearerMetadata(agent.filesToken);
      return new Promise((resolve, reject) => {
        client.readFile(
          { ...req, frameworkId: task.frameworkId },
          metadata,
          { deadline: Date.now() + 10_000 },
          (err, out) => {
            if (err) {
              // Keep the agent's own verdict for a caller's mistake (bad path, a path out of the sandbox, unknown file).
              const kind = errorKindOf(err);
              reject(CALLERS_MISTAKES.has(kind)
                ? new MezzError(err.details, kind)
                : new UnavailableError(`reading ${req.path || 'stdout'} of task ${task.id} from agent ${agent.id} at ${agent.address} failed: ${describeGrpcError(err)}`));
            } else resolve(out!);
          },
        );
      });
    }),
  };
}

/** An id no record can have is refused before it reaches a message or an audit line (which would otherwise echo it whole). */
function rejectBadId(what: string, id: string): void {
  const bad = idProblem(what, id);
  if (bad) throw new InvalidArgumentError(bad);
}

function rolesView(master: Master) {
  const roles = new Map<string, { allocated: res.Resources; frameworks: string[] }>();
  const entry = (name: string) => {
    let e = roles.get(name);
    if (!e) roles.set(name, (e = { allocated: res.empty(), frameworks: [] }));
    return e;
  };
  for (const name of master.weights.keys()) entry(name);
  for (const fw of master.frameworks.values()) {
    for (const role of fw.roles) entry(role).frameworks.push(fw.id);
    for (const [role, r] of fw.allocated) entry(role).allocated = res.add(entry(role).allocated, r);
  }
  let total = res.empty();
  for (const a of master.agents.values()) if (a.status === 'ACTIVE') total = res.add(total, a.total);
  return {
    roles: [...roles].sort(([a], [b]) => a.localeCompare(b)).map(([name, e]) => ({
      name, weight: master.weights.get(name) ?? 1, allocated: res.scalars(e.allocated),
      share: dominantShare(e.allocated, total), frameworks: e.frameworks,
    })),
  };
}
