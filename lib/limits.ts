/**
 * Size limits on everything a caller can send, checked at every entry (the
 * master's scheduler and agent services, the agent's own checks), so one
 * oversized field can never become a 64 MB message, a registry rewritten on
 * every write, or a log line the size of the input.
 *
 * Checks return a reason (or undefined) that names the field, its size and
 * the limit — never the oversized value itself (`describe` shows at most a
 * short prefix).
 */

/** Ids of tasks, frameworks, agents and offers: usable as directory names and registry keys. */
export const ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;
export const MAX_ID_LENGTH = 200;
/** A role path (`eng/ml`): levels of letters, digits and `_ . -`. */
export const ROLE_PATTERN = /^(\*|[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*)$/;
export const MAX_ROLE_LENGTH = 256;
export const MAX_ROLES = 64;
/** Framework names, hostnames, principals, task names. */
export const MAX_NAME_LENGTH = 256;
export const MAX_LABELS = 64;
export const MAX_LABEL_KEY = 128;
export const MAX_LABEL_VALUE = 4096;
export const MAX_ENV_VARS = 256;
export const MAX_ENV_BYTES = 64 * 1024;
/** A task's command: its value and arguments together. */
export const MAX_COMMAND_BYTES = 64 * 1024;
export const MAX_URIS = 64;
export const MAX_URI_LENGTH = 4096;
/** A framework message's payload. */
export const MAX_MESSAGE_BYTES = 256 * 1024;
/** A status update's message text; longer ones are cut, not refused (they come from the agent). */
export const MAX_STATUS_MESSAGE = 4096;
/** Tasks in one ACCEPT: an agent launches them in slices, but one call must stay a bounded amount of work. */
export const MAX_TASKS_PER_ACCEPT = 1000;
/** Offer ids in one ACCEPT or DECLINE, and tasks in one RECONCILE. */
export const MAX_IDS_PER_CALL = 10_000;
/** Tasks an agent reports in one registration message; more follow in further pages. */
export const TASKS_PER_PAGE = 200;
/** Most tasks one ListTasks page returns. */
export const MAX_TASKS_PER_PAGE = 1000;

/** A short, safe rendering of a value for an error message: its start and its length. */
export function describe(value: string, keep = 40): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return value.length <= keep ? `"${printable}"` : `"${printable.slice(0, keep)}…" (${value.length} characters)`;
}

/** An id as an error message shows it: itself when it is a plausible id, else `describe`d. */
export function shown(id: string): string {
  return id.length <= MAX_ID_LENGTH && ID_PATTERN.test(id) ? id : describe(id);
}

/** Why `id` is not a valid id, or undefined. */
export function idProblem(what: string, id: string): string | undefined {
  if (!id) return `${what} is empty`;
  if (id.length > MAX_ID_LENGTH) return `${what} is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`;
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') {
    return `${what} ${describe(id)} is invalid: use 1-${MAX_ID_LENGTH} characters of letters, digits and . _ : @ -`;
  }
  return undefined;
}

/** Why `role` is not a valid role name, or undefined. */
export function roleProblem(role: string): string | undefined {
  if (role.length > MAX_ROLE_LENGTH) return `role of ${role.length} characters is too long; the limit is ${MAX_ROLE_LENGTH}`;
  if (!ROLE_PATTERN.test(role)) {
    return `role ${describe(role)} is invalid: use names like dev or eng/ml (letters, digits, _ . - and / between levels)`;
  }
  return undefined;
}

/** Why a string field is too long, or undefined. */
export function lengthProblem(what: string, value: string | undefined, max: number): string | undefined {
  if (value === undefined || value.length <= max) return undefined;
  return `${what} is ${value.length} characters long; the limit is ${max}`;
}

/** Why a string map (labels, environment) is too large, or undefined. */
export function mapProblem(
  what: string, map: Record<string, string> | undefined,
  limits: { entries: number; key?: number; value?: number; totalBytes?: number },
): string | undefined {
  if (!map) return undefined;
  const entries = Object.entries(map);
  if (entries.length > limits.entries) return `${what} has ${entries.length} entries; the limit is ${limits.entries}`;
  let total = 0;
  for (const [k, v] of entries) {
    if (limits.key !== undefined && k.length > limits.key) return `${what} key ${describe(k)} is ${k.length} characters long; the limit is ${limits.key}`;
    if (limits.value !== undefined && v.length > limits.value) {
      return `${what} value of ${describe(k)} is ${v.length} characters long; the limit is ${limits.value}`;
    }
    total += k.length + v.length;
  }
  if (limits.totalBytes !== undefined && total > limits.totalBytes) return `${what} total ${total} bytes; the limit is ${limits.totalBytes}`;
  return undefined;
}

export function labelsProblem(what: string, labels: Record<string, string> | undefined): string | undefined {
  return mapProblem(what, labels, { entries: MAX_LABELS, key: MAX_LABEL_KEY, value: MAX_LABEL_VALUE });
}

/** `text` cut to `max` characters, saying how much was cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters cut)`;
}

/** A status update's message within MAX_STATUS_MESSAGE characters, the note on what was cut included (agents cut theirs, the master anyone's). */
export function capStatusMessage(text: string): string {
  return text.length <= MAX_STATUS_MESSAGE ? text : truncate(text, MAX_STATUS_MESSAGE - 64);
}

/** Every size problem of a TaskInfo, each naming the field and the limit; the master and the agent both check these. */
export function taskInfoSizeProblems(task: {
  taskId: string; name?: string; labels?: Record<string, string> | null;
  command?: { value?: string; arguments?: string[]; environment?: Record<string, string> | null; uris?: { value: string }[] } | null;
}): string[] {
  const who = task.taskId.length <= MAX_ID_LENGTH ? `task ${task.taskId}` : 'task';
  const problems: (string | undefined)[] = [
    lengthProblem(`${who}: name`, task.name, MAX_NAME_LENGTH),
    labelsProblem(`${who}: labels`, task.labels ?? undefined),
  ];
  const cmd = task.command;
  if (cmd) {
    const args = cmd.arguments ?? [];
    const uris = cmd.uris ?? [];
    const bytes = (cmd.value ?? '').length + args.reduce((n, a) => n + a.length, 0);
    if (bytes > MAX_COMMAND_BYTES) problems.push(`${who}: command and arguments are ${bytes} characters long; the limit is ${MAX_COMMAND_BYTES}`);
    problems.push(mapProblem(`${who}: environment`, cmd.environment ?? undefined, { entries: MAX_ENV_VARS, totalBytes: MAX_ENV_BYTES }));
    if (uris.length > MAX_URIS) problems.push(`${who}: ${uris.length} URIs; the limit is ${MAX_URIS}`);
    else for (const u of uris) problems.push(lengthProblem(`${who}: URI`, u.value, MAX_URI_LENGTH));
  }
  return problems.filter((p): p is string => p !== undefined);
}
