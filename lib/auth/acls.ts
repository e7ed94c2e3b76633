/**
 * Authorization: may this principal do this action on this object? Rules
 * come from an ACL file (the master's `--acls`, as Mesos' `--acls`), are
 * read in order, and the first rule that matches the principal, the action
 * and the object decides. When none matches, the file's `default` decides,
 * and that is `deny` unless the file says otherwise.
 *
 *   { "default": "deny",
 *     "rules": [
 *       { "principals": ["ops"], "actions": "*", "objects": "*" },
 *       { "principals": ["web"], "actions": ["run_task_as"], "objects": ["root"], "allow": false },
 *       { "principals": ["web"], "actions": ["register_framework"], "objects": ["web", "web/*"] },
 *       { "principals": "*", "actions": ["kill_task", "read_sandbox"], "objects": ["$self"] } ] }
 *
 * Objects, per action: a role (register_framework, update_weights), a user
 * (run_task_as), the principal of the framework acted on (kill_task,
 * teardown_framework, read_sandbox), `FRAMEWORK:ID` for the shipped
 * frameworks' APIs (framework_read/write/delete: `services:/prod/web`,
 * `batch:nightly`, `functions:guest/hello`), and `*` for the rest. An object pattern
 * is a literal, `*`, a prefix ending in `*`, or `$self`: the caller's own
 * principal. Without an ACL file every authenticated principal may do
 * everything (authentication alone), as Mesos without `--acls`.
 */
import type { Logger } from '../log';
import { errorMessage, InvalidArgumentError, PermissionDeniedError } from '../errors';
import { type Credential, loadCredentials, readPolicyFile } from './credentials';
import { type Caller, who } from './caller';

export const ACTIONS = [
  'register_agent', 'register_framework', 'run_task_as', 'kill_task', 'teardown_framework', 'read_sandbox',
  'update_weights', 'view',
  // The shipped frameworks' HTTP APIs (services, batch, functions): reading, changing and deleting what they run.
  'framework_read', 'framework_write', 'framework_delete',
] as const;
export type Action = (typeof ACTIONS)[number];

/** A server's `--credentials` and `--acls`, loaded; ACLs without credentials are refused (every caller would be anonymous, matched by no rule). */
export function loadAccessPolicy(files: { credentials?: string; acls?: string }): { credentials?: Credential[]; acls?: Acls } {
  if (files.acls && !files.credentials) throw new InvalidArgumentError('--acls needs --credentials: ACL rules name authenticated principals');
  return {
    ...(files.credentials ? { credentials: loadCredentials(files.credentials) } : {}),
    ...(files.acls ? { acls: Acls.load(files.acls) } : {}),
  };
}

/** What each action guards, for the README and for errors. */
export const ACTION_OBJECTS: Record<Action, string> = {
  register_agent: '* (agents)',
  register_framework: 'a role',
  run_task_as: 'a user name',
  kill_task: "the task's framework's principal",
  teardown_framework: "the framework's principal",
  read_sandbox: "the task's framework's principal",
  update_weights: 'a role',
  view: '* (cluster state: agents, frameworks, tasks, roles)',
  framework_read: "FRAMEWORK:ID, an app, job or function of a shipped framework (services:/prod/web), or FRAMEWORK:* for its lists",
  framework_write: 'FRAMEWORK:ID: deploy, update, scale or restart an app, run a job, invoke a function',
  framework_delete: 'FRAMEWORK:ID: destroy an app, job or function, or kill its tasks',
};

/** Rules one file may hold. */
export const MAX_RULES = 10_000;

interface Rule {
  principals: '*' | Set<string>;
  actions: '*' | Set<Action>;
  objects: '*' | string[];
  allow: boolean;
}

export interface Decision {
  allowed: boolean;
  /** Why, for audit lines and refusals: `rule 2 of acls.json allows it`, `no rule matches; the default is deny`. */
  why: string;
}

function list<T extends string>(v: unknown, where: string, field: string, check: (s: string) => T): '*' | T[] {
  if (v === '*') return '*';
  if (!Array.isArray(v) || !v.length || !v.every((x) => typeof x === 'string')) {
    throw new InvalidArgumentError(`${where}: ${field} must be "*" or a non-empty list of strings`);
  }
  return v.map(check);
}

/** An ACL file, parsed. */
export class Acls {
  private constructor(
    readonly source: string,
    private readonly rules: Rule[],
    readonly defaultAllow: boolean,
  ) {}

  static parse(text: string, source: string): Acls {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new InvalidArgumentError(`${source} is not valid JSON: ${errorMessage(err)}`);
    }
    const d = (doc ?? {}) as { default?: unknown; rules?: unknown };
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new InvalidArgumentError(`${source} must be {"default": "deny", "rules": [...]}`);
    if (d.default !== undefined && d.default !== 'deny' && d.default !== 'allow') {
      throw new InvalidArgumentError(`${source}: default must be "deny" or "allow"`);
    }
    if (!Array.isArray(d.rules)) throw new InvalidArgumentError(`${source}: rules must be a list`);
    if (d.rules.length > MAX_RULES) throw new InvalidArgumentError(`${source} holds ${d.rules.length} rules; at most ${MAX_RULES}`);
    const rules = d.rules.map((r: unknown, i): Rule => {
      const where = `${source}: rules[${i}]`;
      const rule = (r ?? {}) as Record<string, unknown>;
      const known = new Set(['principals', 'actions', 'objects', 'allow', 'comment']);
      const stray = Object.keys(rule).find((k) => !known.has(k));
      if (stray) throw new InvalidArgumentError(`${where}: unknown field "${stray.slice(0, 40)}"; a rule has principals, actions, objects, allow and comment`);
      const principals = list(rule.principals, where, 'principals', (s) => s);
      const actions = list(rule.actions, where, 'actions', (s) => {
        if (!(ACTIONS as readonly string[]).includes(s)) throw new InvalidArgumentError(`${where}: unknown action "${s.slice(0, 40)}"; actions: ${ACTIONS.join(', ')}`);
        return s as Action;
      });
      const objects = rule.objects === undefined ? '*' : list(rule.objects, where, 'objects', (s) => s);
      if (rule.allow !== undefined && typeof rule.allow !== 'boolean') throw new InvalidArgumentError(`${where}: allow must be true or false`);
      return {
        principals: principals === '*' ? '*' : new Set(principals),
        actions: actions === '*' ? '*' : new Set(actions),
        objects,
        allow: rule.allow !== false,
      };
    });
    return new Acls(source, rules, d.default === 'allow');
  }

  static load(file: string): Acls {
    return Acls.parse(readPolicyFile(file, 'ACL'), file);
  }

  /** The first matching rule's verdict, else the default. An anonymous caller matches no rule. */
  decide(principal: string | undefined, action: Action, object: string): Decision {
    if (principal !== undefined) {
      for (let i = 0; i < this.rules.length; i++) {
        const r = this.rules[i]!;
        if (r.principals !== '*' && !r.principals.has(principal)) continue;
        if (r.actions !== '*' && !r.actions.has(action)) continue;
        if (r.objects !== '*' && !r.objects.some((p) => objectMatches(p, object, principal))) continue;
        return { allowed: r.allow, why: `rule ${i} of ${this.source} ${r.allow ? 'allows' : 'denies'} it` };
      }
    }
    const d = this.defaultAllow ? 'allow' : 'deny';
    return { allowed: this.defaultAllow, why: `no rule of ${this.source} matches; the default is ${d}` };
  }
}

function objectMatches(pattern: string, object: string, principal: string): boolean {
  if (pattern === '*') return true;
  if (pattern === '$self') return object === principal;
  if (pattern.endsWith('*')) return object.startsWith(pattern.slice(0, -1));
  return pattern === object;
}

/** Actions audited at debug level when allowed: reads that clients poll. */
const QUIET: ReadonlySet<Action> = new Set(['view', 'framework_read']);

/**
 * The one place decisions are taken and audited: every decision is a log
 * line (`audit: ops may update_weights on web: allowed (rule 0 …)`), refusals
 * at warn, and a refusal throws PERMISSION_DENIED naming the principal, the
 * action, the object and the rule.
 */
export class Authorizer {
  constructor(readonly acls: Acls | undefined, readonly log: Logger) {}

  decide(caller: Caller, action: Action, object: string): Decision {
    if (!this.acls) return { allowed: true, why: caller.principal ? 'no ACLs are loaded' : 'authentication is off' };
    return this.acls.decide(caller.principal, action, object);
  }

  /** Throws PermissionDeniedError unless allowed; `context` says what the call was (`SUBSCRIBE of framework f1`). */
  authorize(caller: Caller, action: Action, object: string, context: string): void {
    const d = this.decide(caller, action, object);
    const line = `audit: ${who(caller)} from ${caller.peer} ${action} on ${JSON.stringify(object)} (${context}): ${d.allowed ? 'allowed' : 'DENIED'}, ${d.why}`;
    if (!d.allowed) {
      this.log.warn(line);
      throw new PermissionDeniedError(`principal ${who(caller)} may not ${action} on ${JSON.stringify(object)} (${context}): ${d.why}`);
    }
    if (QUIET.has(action)) this.log.debug(line);
    else this.log.info(line);
  }
}
