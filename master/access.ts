/**
 * The master's authorization room: every "may this caller do this to that?"
 * the master asks, in one place, as Mesos' authorization actions. Each
 * question names the object as the ACLs see it (lib/auth/acls.ts): a role,
 * a user, or the principal of the framework acted on. Decisions are taken
 * and audited by the Authorizer; a refusal throws PERMISSION_DENIED naming
 * the principal, the action, the object and the rule.
 */
import { type Action, type Authorizer, type Caller, who } from '../lib/auth';
import { PermissionDeniedError } from '../lib/errors';
import type { FrameworkInfo__Output, TaskInfo__Output } from '../lib/proto';
import { rolesOf } from './framework-info';
import type { FrameworkRecord } from './state';

export class Access {
  constructor(readonly authorizer: Authorizer) {}

  /**
   * SUBSCRIBE (or UPDATE_FRAMEWORK): the framework info must name no other
   * principal than the caller's, an existing framework id is taken back only
   * by the principal that registered it, and the caller must be allowed to
   * register in every role. Returns the principal to record.
   */
  subscribe(caller: Caller, info: FrameworkInfo__Output, known: FrameworkRecord | undefined, call = 'SUBSCRIBE'): string {
    const principal = caller.principal ?? '';
    if (info.principal && caller.principal !== undefined && info.principal !== caller.principal) {
      throw new PermissionDeniedError(`${call} names principal ${JSON.stringify(info.principal.slice(0, 128))} but the caller authenticated as ${who(caller)}; leave principal empty or name your own`);
    }
    const owner = known?.info.principal;
    // Authentication off: there is nobody to tell apart. A framework registered before it was turned on is adopted.
    if (known && owner && caller.principal !== undefined && owner !== caller.principal) {
      this.authorizer.log.warn(`audit: ${who(caller)} from ${caller.peer} ${call} as framework ${known.id} of principal ${owner}: DENIED, the id belongs to another principal`);
      throw new PermissionDeniedError(`framework ${known.id} belongs to principal ${owner}, not ${who(caller)}: only its own principal may subscribe with its id`);
    }
    const fw = known ? `framework ${known.id}` : `new framework ${JSON.stringify(info.name.slice(0, 100))}`;
    for (const role of rolesOf(info)) this.authorizer.authorize(caller, 'register_framework', role, `${call} of ${fw}`);
    return principal;
  }

  /** The user a task runs as: its command's, else its framework's; '' leaves it to the agent's --default-user. */
  static userOf(task: TaskInfo__Output, fw: FrameworkRecord): string {
    return task.command?.user || fw.info.user || '';
  }

  /**
   * ACCEPT: a checker of the users the framework's tasks run as, asking the
   * ACLs once per user per accept; '' (the agent's default, unprivileged
   * user) needs no permission.
   */
  userChecker(fw: FrameworkRecord, peer: string): (task: TaskInfo__Output) => string | undefined {
    const caller: Caller = { principal: fw.info.principal || undefined, peer };
    const verdicts = new Map<string, string | undefined>();
    return (task) => {
      const user = Access.userOf(task, fw);
      if (!user) return undefined;
      if (!verdicts.has(user)) {
        try {
          this.authorizer.authorize(caller, 'run_task_as', user, `ACCEPT of framework ${fw.id}`);
          verdicts.set(user, undefined);
        } catch (err) {
          verdicts.set(user, (err as Error).message);
        }
      }
      return verdicts.get(user);
    };
  }

  /** An operator call on a framework's tasks or sandboxes: the object is the framework's principal. */
  onFramework(caller: Caller, action: Action, fw: { id: string; principal: string }, context: string): void {
    this.authorizer.authorize(caller, action, fw.principal, `${context} of framework ${fw.id}`);
  }

  /** An operator call on the cluster as a whole (`view`), or on a role (`update_weights`). */
  authorize(caller: Caller, action: Action, object: string, context: string): void {
    this.authorizer.authorize(caller, action, object, context);
  }
}
