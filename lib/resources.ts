/**
 * Resource arithmetic. Inside Mezzanine a bag of resources is a plain
 * object of scalars plus port ranges and, for GPUs, the ids of the GPUs it
 * names; on the wire it is a list of `Resource` messages (Mesos style).
 * Conversions live here and nowhere else.
 *
 * GPUs are counted by `gpus` and named by `gpuIds` (nvidia-smi uuids). A
 * bag names at most `gpus` of them: an agent's total names all of its GPUs
 * (in index order), a task's request may name none ("any 2 GPUs") and the
 * master then names them when it commits the launch. On the wire both sit in
 * one resource: `{name: 'gpus', scalar: 2, set: ['GPU-…', 'GPU-…']}`.
 *
 * Port ranges stay ranges: every operation works on sorted, merged
 * intervals in time linear in the number of ranges, never in their width,
 * so a request for ports 1-2^40 costs what 1-2 costs (and is refused: ports
 * lie in 0-65535).
 */
import type { Resource, Resource__Output } from './proto';
import { describe } from './limits';

export interface PortRange {
  begin: number;
  end: number;
}

export interface Resources {
  cpus: number;
  /** Megabytes. */
  mem: number;
  /** Megabytes. */
  disk: number;
  gpus: number;
  ports: PortRange[];
  /**
   * Ids of the GPUs counted in `gpus` (at most `gpus` of them), unique, in
   * the order first seen: an agent lists them in index order, and since
   * every free bag is its total less something, offers list free GPUs
   * lowest index first. Absent (never `[]`) when the bag names no GPU, so
   * bags without GPUs compare equal to plain literals.
   */
  gpuIds?: string[];
}

export const SCALARS = ['cpus', 'mem', 'disk', 'gpus'] as const;
export type ScalarName = (typeof SCALARS)[number];

/** Floating point slack: 0.1 + 0.2 cpus must fit in 0.3. */
const EPSILON = 1e-9;

/** The highest port number; ranges lie in 0-MAX_PORT. */
export const MAX_PORT = 65535;

/**
 * The most any one bag read from the wire or `--resources` may hold of each
 * scalar: far above any machine (a million cores; mem and disk in MB, so
 * 1e9 MB ≈ 1 PB of memory, 1e12 MB ≈ 1 EB of disk; ten thousand GPUs), yet
 * small enough that sums over a whole cluster stay exact and that a
 * phantom agent or task cannot claim "1e300 cpus" and starve everyone under
 * DRF.
 */
export const MAX_SCALAR: Readonly<Record<ScalarName, number>> = { cpus: 1e6, mem: 1e9, disk: 1e12, gpus: 1e4 };

/**
 * The most ports one task may hold. Each becomes an environment variable
 * (PORT0, PORT1, …, and all of them in PORTS), and Linux refuses to start a
 * command whose single variable exceeds 128 KiB (PORTS of 21,845 five-digit
 * ports): 4,096 ports is far more than a task needs and keeps PORTS under
 * 24 KiB. An agent's own ranges may cover all 65,536 ports.
 */
export const MAX_TASK_PORTS = 4096;

/** Ranges in one ports resource on the wire; after merging no bag can hold more than 32,768. */
export const MAX_PORT_RANGES = 65536;

export function empty(): Resources {
  return { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [] };
}

/**
 * A bag from some of its parts. Naming GPU ids without a count counts them
 * (`{gpuIds: [a, b]}` is 2 GPUs); a count below the number of ids is raised
 * to it.
 */
export function make(partial: Partial<Resources>): Resources {
  const { gpuIds, ...rest } = partial;
  const out: Resources = { ...empty(), ...rest, ports: normalizeRanges(partial.ports ?? []) };
  return withGpuIds(out, uniqueIds(gpuIds ?? []), Math.max(out.gpus, 0));
}

export function clone(r: Resources): Resources {
  const out: Resources = { cpus: r.cpus, mem: r.mem, disk: r.disk, gpus: r.gpus, ports: r.ports.map((p) => ({ ...p })) };
  if (r.gpuIds?.length) out.gpuIds = [...r.gpuIds];
  return out;
}

export function isEmpty(r: Resources): boolean {
  return SCALARS.every((k) => r[k] <= EPSILON) && r.ports.length === 0;
}

/** The GPU ids a bag names ([] when none). */
export function gpuIdsOf(r: Resources): readonly string[] {
  return r.gpuIds ?? [];
}

function uniqueIds(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/**
 * Sets `r.gpuIds` to `ids` (left out when empty) and `r.gpus` to at least
 * their number, keeping the invariant |gpuIds| ≤ gpus.
 */
function withGpuIds(r: Resources, ids: string[], gpus: number): Resources {
  r.gpus = Math.max(gpus, ids.length);
  if (ids.length) r.gpuIds = ids;
  else delete r.gpuIds;
  return r;
}

/**
 * Sorts and merges overlapping or adjacent ranges (inverted ones are
 * dropped): the form every bag keeps its ports in, which the operations
 * below rely on. O(n log n) in the number of ranges.
 */
export function normalizeRanges(ranges: readonly PortRange[]): PortRange[] {
  const sorted = ranges.filter((r) => r.end >= r.begin).map((r) => ({ ...r })).sort((a, b) => a.begin - b.begin);
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push(r);
  }
  return out;
}

/** `ranges` if already sorted, merged and not inverted (checked in one pass), else normalized. */
function merged(ranges: readonly PortRange[]): readonly PortRange[] {
  for (let i = 0; i < ranges.length; i++) {
    const r = ranges[i]!;
    if (r.end < r.begin || (i > 0 && r.begin <= ranges[i - 1]!.end + 1)) return normalizeRanges(ranges);
  }
  return ranges;
}

/** True when every range of `inner` lies inside one of `outer`. One pass over both (normalized first if they are not). */
export function rangesContain(outerRanges: readonly PortRange[], innerRanges: readonly PortRange[]): boolean {
  const outer = merged(outerRanges);
  const inner = merged(innerRanges);
  let j = 0;
  for (const i of inner) {
    // Merged ranges are disjoint and not adjacent, so at most one of `outer` can hold `i`.
    while (j < outer.length && outer[j]!.end < i.begin) j++;
    const o = outer[j];
    if (!o || o.begin > i.begin || o.end < i.end) return false;
  }
  return true;
}

/** `from` less `take`, normalized. One pass over both (normalized first if they are not). */
export function subtractRanges(fromRanges: readonly PortRange[], takeRanges: readonly PortRange[]): PortRange[] {
  const from = merged(fromRanges);
  const take = merged(takeRanges);
  const out: PortRange[] = [];
  let j = 0;
  for (const r of from) {
    let begin = r.begin;
    // Skip what ends before this range; what reaches past it may cut the next one too, so it is not consumed.
    while (j < take.length && take[j]!.end < begin) j++;
    let k = j;
    while (k < take.length && take[k]!.begin <= r.end) {
      const t = take[k]!;
      if (t.begin > begin) out.push({ begin, end: t.begin - 1 });
      begin = Math.max(begin, t.end + 1);
      if (t.end > r.end) break;
      k++;
    }
    if (begin <= r.end) out.push({ begin, end: r.end });
    j = k;
  }
  return out;
}

/** a + b. GPU ids: a's, then b's that a lacks. */
export function add(a: Resources, b: Resources): Resources {
  const out: Resources = {
    cpus: a.cpus + b.cpus,
    mem: a.mem + b.mem,
    disk: a.disk + b.disk,
    gpus: a.gpus + b.gpus,
    ports: normalizeRanges([...a.ports, ...b.ports]),
  };
  if (a.gpuIds?.length || b.gpuIds?.length) withGpuIds(out, uniqueIds([...gpuIdsOf(a), ...gpuIdsOf(b)]), out.gpus);
  return out;
}

/**
 * a - b; callers check `contains(a, b)` first where going negative would be a bug.
 *
 * GPU ids: b's ids leave a's. GPUs that b counts without naming them are
 * taken from a's named ones lowest first — the same choice the master makes
 * when it assigns GPUs to a task (master/validation.ts), so that a
 * framework's own bookkeeping of an offer agrees with what it is given.
 */
export function subtract(a: Resources, b: Resources): Resources {
  const clamp = (x: number) => (Math.abs(x) < EPSILON ? 0 : x);
  const out: Resources = {
    cpus: clamp(a.cpus - b.cpus),
    mem: clamp(a.mem - b.mem),
    disk: clamp(a.disk - b.disk),
    gpus: clamp(a.gpus - b.gpus),
    ports: subtractRanges(a.ports, b.ports),
  };
  if (a.gpuIds?.length) {
    const taken = new Set(gpuIdsOf(b));
    let left = a.gpuIds.filter((id) => !taken.has(id));
    // |left| ≤ gpus must hold: unnamed GPUs of b came out of a's named ones.
    const excess = left.length - Math.max(0, Math.floor(out.gpus + EPSILON));
    if (excess > 0) left = left.slice(excess);
    withGpuIds(out, left, out.gpus);
  }
  return out;
}

export function contains(a: Resources, b: Resources): boolean {
  return SCALARS.every((k) => a[k] + EPSILON >= b[k]) && rangesContain(a.ports, b.ports) && idsContain(a, b);
}

function idsContain(a: Resources, b: Resources): boolean {
  if (!b.gpuIds?.length) return true;
  const have = new Set(gpuIdsOf(a));
  return b.gpuIds.every((id) => have.has(id));
}

/**
 * Names every GPU that `want` counts, choosing from `have`: the ids `want`
 * names already, then the lowest of `have`'s other ids for the GPUs it only
 * counts. Undefined when `have` does not name enough of them (GPUs without
 * ids, or too few free). `want.gpus` is rounded up to a whole GPU.
 */
export function pickGpuIds(have: Resources, want: Resources): string[] | undefined {
  const named = gpuIdsOf(want);
  const n = Math.ceil(want.gpus - EPSILON);
  const chosen = new Set(named);
  const more = gpuIdsOf(have).filter((id) => !chosen.has(id)).slice(0, Math.max(0, n - named.length));
  return named.length + more.length >= n ? [...named, ...more] : undefined;
}

/** `want` with its GPUs named by `ids` (see pickGpuIds). */
export function withGpus(want: Resources, ids: readonly string[]): Resources {
  return withGpuIds(clone(want), uniqueIds(ids), want.gpus);
}

/**
 * What of `want` `have` lacks, one phrase per resource, e.g.
 * `needs 4 cpus, 2 free`. Empty when `have` contains `want`.
 */
export function shortfall(have: Resources, want: Resources): string[] {
  const out: string[] = [];
  for (const k of SCALARS) {
    if (have[k] + EPSILON < want[k]) out.push(`needs ${fmt(want[k])} ${k}, ${fmt(have[k])} available`);
  }
  if (!rangesContain(have.ports, want.ports)) {
    out.push(`needs ports ${formatRanges(want.ports, RANGES_SHOWN)}, available ${formatRanges(have.ports, RANGES_SHOWN) || 'none'}`);
  }
  if (!idsContain(have, want)) {
    const free = new Set(gpuIdsOf(have));
    const missing = gpuIdsOf(want).filter((id) => !free.has(id));
    out.push(`needs GPU${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, available ${gpuIdsOf(have).join(', ') || 'none'}`);
  }
  return out;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, '');
}

/** `31000-31005,32000`; past `max` ranges, the rest is counted (`… and 12 more ranges`), for messages. */
export function formatRanges(ranges: readonly PortRange[], max = Infinity): string {
  const shown = ranges.slice(0, max).map((r) => (r.begin === r.end ? `${r.begin}` : `${r.begin}-${r.end}`)).join(',');
  return ranges.length > max ? `${shown},… and ${ranges.length - max} more ranges` : shown;
}

/** Ranges a message shows before counting the rest. */
const RANGES_SHOWN = 8;

export function portCount(ranges: readonly PortRange[]): number {
  return ranges.reduce((n, r) => n + r.end - r.begin + 1, 0);
}

/**
 * The ports of `ranges`, in order: what PORT0, PORT1, … are set to. At most
 * `limit` of them (default MAX_TASK_PORTS, the most a task may hold), so the
 * list never grows with the width of a range: a task asking for more is
 * refused before it launches, and a range of 2^40 ports costs `limit` steps.
 */
export function portList(ranges: readonly PortRange[], limit = MAX_TASK_PORTS): number[] {
  const out: number[] = [];
  for (const r of ranges) {
    for (let p = r.begin; p <= r.end; p++) {
      if (out.length >= limit) return out;
      out.push(p);
    }
  }
  return out;
}

/** Why a task may not hold `r`'s ports (more than MAX_TASK_PORTS), or undefined. */
export function taskPortsProblem(r: Resources): string | undefined {
  const n = portCount(r.ports);
  return n > MAX_TASK_PORTS
    ? `asks for ${n} ports (${formatRanges(r.ports, RANGES_SHOWN)}); a task may hold at most ${MAX_TASK_PORTS}`
    : undefined;
}

/** Why `begin`-`end` is not a port range, or undefined. Shows numbers only, which are short. */
export function portRangeProblem(begin: number, end: number): string | undefined {
  if (!Number.isInteger(begin) || !Number.isInteger(end)) return `port range ${begin}-${end} is not a range of whole numbers`;
  if (begin < 0 || end > MAX_PORT) return `port range ${begin}-${end} is outside 0-${MAX_PORT}`;
  if (begin > end) return `port range ${begin}-${end} is inverted (begin > end)`;
  return undefined;
}

/** Why `v` is not a valid amount of scalar `name`, or undefined. */
function scalarProblem(name: ScalarName, v: number): string | undefined {
  if (!Number.isFinite(v)) return `resource ${name} is ${v}; it must be a finite number`;
  if (v < 0) return `resource ${name} is ${v}; it must not be negative`;
  if (v > MAX_SCALAR[name]) return `resource ${name} is ${v}; the limit is ${MAX_SCALAR[name]}`;
  return undefined;
}

/** `cpus:2 mem:1024 gpus:2[GPU-a,GPU-b] ports:[31000-32000]`, for logs and errors. */
export function format(r: Resources): string {
  const parts = SCALARS.filter((k) => r[k] > 0).map((k) => (k === 'gpus' && r.gpuIds?.length
    ? `gpus:${fmt(r.gpus)}[${r.gpuIds.join(',')}]` : `${k}:${fmt(r[k])}`));
  if (r.ports.length) parts.push(`ports:[${formatRanges(r.ports, RANGES_SHOWN)}]`);
  return parts.join(' ') || 'nothing';
}

export class ResourceParseError extends Error {
  override name = 'ResourceParseError';
}

/**
 * Parses the agent's `--resources` syntax, Mesos style:
 * `cpus:4;mem:2048;disk:10000;gpus:0;ports:[31000-32000,33000-33100]`.
 * Throws ResourceParseError naming the bad part.
 */
export function parse(text: string): Partial<Resources> {
  const out: Partial<Resources> = {};
  for (const raw of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const idx = raw.indexOf(':');
    if (idx < 0) throw new ResourceParseError(`resource ${describe(raw)} has no value; write name:value, e.g. cpus:4`);
    const name = raw.slice(0, idx).trim();
    const value = raw.slice(idx + 1).trim();
    if (name === 'ports') {
      const m = /^\[(.*)\]$/.exec(value);
      if (!m) throw new ResourceParseError(`ports must be ranges in brackets, e.g. ports:[31000-32000]; got ${describe(value)}`);
      out.ports = normalizeRanges(m[1]!.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
        const [b, e] = s.split('-').map((x) => Number(x.trim()));
        const begin = b!;
        const end = e ?? begin;
        if (portRangeProblem(begin, end)) {
          throw new ResourceParseError(`bad port range ${describe(s)} (want BEGIN-END within 0-${MAX_PORT})`);
        }
        return { begin, end };
      }));
    } else if ((SCALARS as readonly string[]).includes(name)) {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n) || n < 0) {
        throw new ResourceParseError(`resource ${name} must be a non-negative number; got ${describe(value)}`);
      }
      const problem = scalarProblem(name as ScalarName, n);
      if (problem) throw new ResourceParseError(problem);
      out[name as ScalarName] = n;
    } else {
      throw new ResourceParseError(`unknown resource ${describe(name)}; known: ${[...SCALARS, 'ports'].join(', ')}`);
    }
  }
  return out;
}

/** Bag → wire. Zero scalars are left out; GPU ids go in the `set` of the gpus resource. */
export function toProto(r: Resources, role = '*'): Resource[] {
  const out: Resource[] = [];
  for (const k of SCALARS) {
    if (!(r[k] > 0)) continue;
    out.push(k === 'gpus' && r.gpuIds?.length ? { name: k, scalar: r[k], set: [...r.gpuIds], role } : { name: k, scalar: r[k], role });
  }
  if (r.ports.length) out.push({ name: 'ports', ranges: r.ports.map((p) => ({ begin: p.begin, end: p.end })), role });
  return out;
}

export class InvalidResourceError extends Error {
  override name = 'InvalidResourceError';
}

/**
 * Wire → bag. Strict, since it reads what frameworks and agents send: throws
 * InvalidResourceError for what no agent could hold — unknown names;
 * negative, NaN or infinite scalars, or more than MAX_SCALAR of one; port
 * ranges that are inverted, not whole numbers or outside 0-65535, or more
 * than MAX_PORT_RANGES of them; a `set` on anything but gpus; empty or
 * repeated GPU ids, or fewer GPUs counted than named. A gpus resource with
 * a `set` and no scalar counts the ids it names. Messages show numbers and
 * short prefixes of names, never an oversized value.
 */
export function fromProto(list: readonly (Resource | Resource__Output)[]): Resources {
  const r = empty();
  const ids: string[] = [];
  const seenIds = new Set<string>();
  for (const res of list) {
    const name = res.name ?? '';
    const set = res.set ?? [];
    if (set.length) {
      if (name !== 'gpus') throw new InvalidResourceError(`resource ${describe(name)} has a set of ids; only gpus may name ids`);
      if (set.length > MAX_SCALAR.gpus) throw new InvalidResourceError(`gpus names ${set.length} GPU ids; the limit is ${MAX_SCALAR.gpus}`);
      for (const id of set) {
        if (typeof id !== 'string' || !id.trim()) throw new InvalidResourceError('a GPU id is empty; name GPUs by their uuid, e.g. GPU-d7514950-…');
        if (seenIds.has(id)) throw new InvalidResourceError(`GPU ${describe(id)} is named twice`);
        seenIds.add(id);
        ids.push(id);
      }
      // Ids without a count count themselves.
      if (res.scalar === undefined || res.scalar === null || Number(res.scalar) === 0) {
        r.gpus += set.length;
        continue;
      }
      if (Number(res.scalar) < set.length) {
        throw new InvalidResourceError(`gpus is ${Number(res.scalar)} but names ${set.length} GPU ids; count at least the GPUs you name`);
      }
    }
    if (name === 'ports') {
      const ranges = res.ranges ?? [];
      if (ranges.length > MAX_PORT_RANGES) throw new InvalidResourceError(`ports has ${ranges.length} ranges; the limit is ${MAX_PORT_RANGES}`);
      for (const p of ranges) {
        const begin = Number(p.begin);
        const end = Number(p.end);
        const problem = portRangeProblem(begin, end);
        if (problem) throw new InvalidResourceError(problem);
        r.ports.push({ begin, end });
      }
    } else if ((SCALARS as readonly string[]).includes(name)) {
      const v = Number(res.scalar ?? 0);
      const problem = scalarProblem(name as ScalarName, v) ?? scalarProblem(name as ScalarName, r[name as ScalarName] + v);
      if (problem) throw new InvalidResourceError(problem);
      r[name as ScalarName] += v;
    } else {
      throw new InvalidResourceError(`unknown resource ${describe(name)}; known: ${[...SCALARS, 'ports'].join(', ')}`);
    }
  }
  if (r.gpus > MAX_SCALAR.gpus) throw new InvalidResourceError(`resource gpus is ${r.gpus}; the limit is ${MAX_SCALAR.gpus}`);
  r.ports = normalizeRanges(r.ports);
  if (ids.length) r.gpuIds = ids;
  return r;
}

/** The scalar part, for operator views. */
export function scalars(r: Resources): Record<ScalarName, number> {
  return { cpus: r.cpus, mem: r.mem, disk: r.disk, gpus: r.gpus };
}
