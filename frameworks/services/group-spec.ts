/**
 * Reading Marathon's group JSON (`/v2/groups`), and the change a group body
 * makes to the apps. Mezzanine keeps no group records: a group is the set of
 * apps whose ids lie under it, so a body is turned into apps to put and apps
 * to remove, one deployment.
 *
 *   body ──parseGroup──▶ GroupSpec (ids absolute, each app parsed by parseApp,
 *        │                every problem at its JSON path: /apps/1/cmd, /groups/0/apps/0/instances)
 *        ▼
 *   groupChange(spec, stored apps, {replace}) ──▶ {put, remove} | {errors}
 *        group dependencies copied into the apps under the group; a dependency
 *        on a group expanded to its apps; unknown dependencies and cycles named
 *
 * Marathon's rules kept: relative ids resolve against the group (a group's
 * own `dependencies` against the group itself, an app's against its group);
 * an app or group listed must be a direct child of the group listing it; a
 * PUT replaces what it lists — `apps` given replaces the group's own apps
 * (those left out are removed), `groups` given replaces its child groups
 * (apps of those left out are removed), and a field left out keeps what is
 * there (Marathon's `GroupConversion`). Pure: no I/O.
 */
import { parentGroup, resolveAppId, resolveGroupId } from './app-id';
import { escape } from './app-rules';
import { parseApp } from './app-spec';
import type { App, FieldErrors } from './app-schema';
import { findCycle } from '../foundation/index';

/** Apps one body may carry, over all its groups (a deployment and its store writes stay bounded). */
export const MAX_GROUP_APPS = 100;
/** Groups one body may carry, nested or not. */
export const MAX_GROUP_GROUPS = 100;
/** How deep groups may nest in one body. */
export const MAX_GROUP_DEPTH = 16;
/** Apps one app may depend on once group dependencies are expanded (as `dependencies` in app-schema.ts). */
const MAX_DEPENDENCIES = 256;
/** Most fields a 422 names (as parseApp). */
const MAX_REPORTED = 50;

/** A dependency as written: the absolute id it names and the JSON path it was written at. */
export interface DependencySpec {
  id: string;
  path: string;
}

/** A group body, read. `apps` and `groups` are undefined when the body left them out (a PUT keeps those). */
export interface GroupSpec {
  id: string;
  /** This group's JSON pointer in the body (`''` for the body itself, `/groups/0`). */
  path: string;
  apps?: { app: App; path: string }[];
  groups?: GroupSpec[];
  dependencies: DependencySpec[];
}

export type GroupResult = { group: GroupSpec; errors?: undefined } | { group?: undefined; errors: FieldErrors[] };

/** An app as stored, as far as a group change needs it. */
export interface ExistingApp {
  id: string;
  dependencies: readonly string[];
}

/** The apps a group body puts (whole definitions, dependencies expanded) and removes. */
export type GroupChange = { put: App[]; remove: string[]; errors?: undefined } | { put?: undefined; remove?: undefined; errors: FieldErrors[] };

const FIELDS = ['id', 'apps', 'groups', 'dependencies'];

/** Group fields Marathon has that Mezzanine does not do, with why. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  pods: 'pods are not supported',
  version: 'group versions are not kept (Mezzanine keeps no group records): roll back each app with PUT /v2/apps/{id} {"version": …}',
  scaleBy: 'scaling a whole group is not supported: scale each app with PUT /v2/apps/{id} {"instances": …}',
  enforceRole: 'roles per group are not supported: give each app its role',
};

/**
 * Reads a group body. The group's id is `id` when given (PUT: the URL's; a
 * body `id` must then name the same group), else the body's `id` resolved
 * against `base` (POST), else `base` itself. Never throws on bad input.
 */
export function parseGroup(body: unknown, opts: { id?: string; base?: string } = {}): GroupResult {
  const errors: FieldErrors[] = [];
  const fail = (path: string, why: string) => {
    const known = errors.find((e) => e.path === (path || '/'));
    if (known) known.errors.push(why);
    else if (errors.length < MAX_REPORTED) errors.push({ path: path || '/', errors: [why] });
  };
  if (!isObject(body)) return { errors: [{ path: '/', errors: ['a group must be a JSON object'] }] };
  const base = opts.base ?? '/';
  let id = opts.id ?? base;
  if (typeof body.id === 'string') {
    const r = resolveGroupId(body.id, opts.id === undefined ? base : '/');
    if ('error' in r) fail('/id', r.error);
    else if (opts.id !== undefined && r.id !== opts.id) fail('/id', `names ${r.id}, not the group in the URL (${opts.id}): leave it out or make them agree`);
    else id = r.id;
  }
  const counts = { apps: 0, groups: 0 };
  const group = readGroup(body, id, '', 0, counts, fail);
  if (counts.apps > MAX_GROUP_APPS) fail('/', `at most ${MAX_GROUP_APPS} apps in one group body; got ${counts.apps}`);
  if (counts.groups > MAX_GROUP_GROUPS) fail('/', `at most ${MAX_GROUP_GROUPS} groups in one group body; got ${counts.groups}`);
  return errors.length ? { errors } : { group };
}

type Fail = (path: string, why: string) => void;

/** One group object at `path`, its id already resolved (the top's) or read here (a nested one's, by the caller). */
function readGroup(body: Record<string, unknown>, id: string, path: string, depth: number, counts: { apps: number; groups: number }, fail: Fail): GroupSpec {
  for (const name of Object.keys(body)) {
    if (FIELDS.includes(name)) continue;
    fail(`${path}/${escape(name)}`, UNSUPPORTED[name] ? `not supported: ${UNSUPPORTED[name]}` : `unknown field; a group has ${FIELDS.join(', ')}`);
  }
  if (body.id !== undefined && typeof body.id !== 'string') fail(`${path}/id`, 'must be a string');
  const spec: GroupSpec = { id, path, dependencies: readDependencies(body.dependencies, id, path, fail) };
  if (body.apps !== undefined) spec.apps = readApps(body.apps, id, path, counts, fail);
  if (body.groups !== undefined) spec.groups = readGroups(body.groups, id, path, depth, counts, fail);
  return spec;
}

function readDependencies(value: unknown, id: string, path: string, fail: Fail): DependencySpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return fail(`${path}/dependencies`, 'must be an array of app or group ids'), [];
  if (value.length > MAX_DEPENDENCIES) return fail(`${path}/dependencies`, `at most ${MAX_DEPENDENCIES}; got ${value.length}`), [];
  return value.flatMap((d, i) => {
    const at = `${path}/dependencies/${i}`;
    if (typeof d !== 'string') return fail(at, 'must be a string: an app or group id'), [];
    // A group's own dependencies are relative to the group itself (Marathon's `canonicalPath(group.id)`).
    const r = resolveAppId(d, id);
    if ('error' in r) return fail(at, r.error), [];
    return [{ id: r.id, path: at }];
  });
}

function readApps(value: unknown, group: string, path: string, counts: { apps: number }, fail: Fail): { app: App; path: string }[] {
  if (!Array.isArray(value)) return fail(`${path}/apps`, 'must be an array of apps'), [];
  counts.apps += value.length;
  if (counts.apps > MAX_GROUP_APPS) return [];
  return value.flatMap((body, i) => {
    const at = `${path}/apps/${i}`;
    const parsed = parseApp(body, { base: group });
    if (parsed.errors) {
      for (const e of parsed.errors) for (const why of e.errors) fail(e.path === '/' ? at : at + e.path, why);
      return [];
    }
    if (parentGroup(parsed.app.id) !== group) {
      fail(`${at}/id`, notChild(parsed.app.id, group));
      return [];
    }
    return [{ app: parsed.app, path: at }];
  });
}

function readGroups(value: unknown, parent: string, path: string, depth: number, counts: { apps: number; groups: number }, fail: Fail): GroupSpec[] {
  if (!Array.isArray(value)) return fail(`${path}/groups`, 'must be an array of groups'), [];
  if (depth + 1 > MAX_GROUP_DEPTH) return fail(`${path}/groups`, `groups nest at most ${MAX_GROUP_DEPTH} deep`), [];
  counts.groups += value.length;
  if (counts.groups > MAX_GROUP_GROUPS) return [];
  return value.flatMap((body, i) => {
    const at = `${path}/groups/${i}`;
    if (!isObject(body)) return fail(at, 'a group must be a JSON object'), [];
    if (typeof body.id !== 'string') return fail(`${at}/id`, body.id === undefined ? 'is required' : 'must be a string'), [];
    const r = resolveGroupId(body.id, parent);
    if ('error' in r) return fail(`${at}/id`, r.error), [];
    if (parentGroup(r.id) !== parent || r.id === '/') return fail(`${at}/id`, notChild(r.id, parent)), [];
    return [readGroup(body, r.id, at, depth + 1, counts, fail)];
  });
}

function notChild(id: string, group: string): string {
  return `${id} is not a child of group ${group}: list it in its own group, or give an id relative to this one ("${id.split('/').pop()}")`;
}

/**
 * The apps `group` puts and removes, given every app stored now: with
 * `replace` (PUT) the apps of the group that the body's `apps` and `groups`
 * leave out are removed; without it (POST) nothing is. Each app put gets the
 * dependencies of every group it sits in within the body; a dependency that
 * names a group stands for every app under it. A dependency that names
 * nothing (after the change), ids given twice, an app where a group is (or
 * inside another app), and a dependency cycle are errors at their paths.
 */
export function groupChange(group: GroupSpec, existing: readonly ExistingApp[], opts: { replace: boolean }): GroupChange {
  const errors: FieldErrors[] = [];
  const fail = (path: string, why: string) => {
    if (!errors.some((e) => e.path === path && e.errors.includes(why)) && errors.length < MAX_REPORTED) errors.push({ path, errors: [why] });
  };
  const given = collect(group, [], fail);
  const remove = opts.replace ? removed(group, existing, new Set(given.map((g) => g.app.id))) : [];

  const world = new Map<string, readonly string[]>(existing.map((a) => [a.id, a.dependencies]));
  for (const id of remove) world.delete(id);
  for (const g of given) world.set(g.app.id, g.app.dependencies);
  const ids = [...world.keys()];
  for (const { app, path } of given) {
    const inside = ancestors(app.id).find((a) => world.has(a));
    if (inside) fail(`${path}/id`, `${app.id} would be inside the app ${inside}: an app holds no apps`);
    const holds = ids.find((other) => other.startsWith(`${app.id}/`));
    if (holds) fail(`${path}/id`, `${app.id} is a group (it holds ${holds}): an app and a group cannot share an id`);
  }

  const put = given.map(({ app, path, inherited }) => {
    const own = app.dependencies.map((id, i) => ({ id, path: `${path}/dependencies/${i}` }));
    const deps = new Set<string>();
    for (const d of [...own, ...inherited]) {
      const named = world.has(d.id) ? [d.id] : ids.filter((other) => other.startsWith(`${d.id}/`)).sort();
      if (named.length === 0) fail(d.path, `${d.id} is no app or group: a dependency must name one that exists, or that this body creates`);
      for (const n of named) deps.add(n);
    }
    if (deps.size > MAX_DEPENDENCIES) fail(`${path}/dependencies`, `${app.id} depends on ${deps.size} apps once groups are expanded; at most ${MAX_DEPENDENCIES}`);
    return { ...app, dependencies: [...deps] };
  });
  for (const app of put) world.set(app.id, app.dependencies);

  for (const { app, path } of given) {
    const cycle = findCycle((id) => world.get(id), [app.id]);
    if (cycle) {
      fail(`${path}/dependencies`, `dependency cycle: ${cycle.join(' → ')}`);
      break;
    }
  }
  return errors.length ? { errors } : { put, remove };
}

interface Given {
  app: App;
  path: string;
  /** The dependencies of the groups it sits in, in the body. */
  inherited: DependencySpec[];
}

/** Every app in the body with the group dependencies it inherits; ids given twice and dependencies that reach no app are errors. */
function collect(group: GroupSpec, inherited: DependencySpec[], fail: (path: string, why: string) => void): Given[] {
  const mine = [...inherited, ...group.dependencies];
  const out: Given[] = [];
  const seen = new Set<string>();
  for (const { app, path } of group.apps ?? []) {
    if (seen.has(app.id)) fail(`${path}/id`, `${app.id} is given twice`);
    seen.add(app.id);
    out.push({ app, path, inherited: mine });
  }
  for (const child of group.groups ?? []) {
    if (seen.has(child.id)) fail(`${child.path}/id`, `${child.id} is given twice`);
    seen.add(child.id);
    out.push(...collect(child, mine, fail));
  }
  if (group.dependencies.length > 0 && out.length === 0) {
    fail(`${group.path}/dependencies`, 'applies to no app: group dependencies are copied into the apps sent under the group (Mezzanine keeps no group records), so send its apps with them');
  }
  return out;
}

/** What a PUT of `group` removes: stored apps of a group whose `apps` or `groups` the body gives that it leaves out. */
function removed(group: GroupSpec, existing: readonly ExistingApp[], kept: ReadonlySet<string>): string[] {
  const under = existing.filter((a) => isUnder(a.id, group.id));
  const out: string[] = [];
  if (group.apps) out.push(...under.filter((a) => parentGroup(a.id) === group.id && !kept.has(a.id)).map((a) => a.id));
  if (group.groups) {
    const children = group.groups.map((g) => g.id);
    out.push(...under.filter((a) => parentGroup(a.id) !== group.id && !children.some((c) => isUnder(a.id, c))).map((a) => a.id));
  }
  for (const child of group.groups ?? []) out.push(...removed(child, under, kept));
  return [...new Set(out)].sort();
}

/** Whether the app `id` lies (at any depth) in the group `group`. */
export function isUnder(id: string, group: string): boolean {
  return group === '/' ? id !== '/' : id.startsWith(`${group}/`);
}

/** `/a/b/c` → [`/a`, `/a/b`]. */
function ancestors(id: string): string[] {
  const parts = id.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
