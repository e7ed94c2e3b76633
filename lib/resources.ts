/**
 * Resource arithmetic. Inside Mezzanine a bag of resources is a plain
 * object of scalars plus port ranges; on the wire it is a list of
 * `Resource` messages (Mesos style). Conversions live here and nowhere else.
 */
import type { Resource, Resource__Output } from './proto';

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
}

export const SCALARS = ['cpus', 'mem', 'disk', 'gpus'] as const;
export type ScalarName = (typeof SCALARS)[number];

/** Floating point slack: 0.1 + 0.2 cpus must fit in 0.3. */
const EPSILON = 1e-9;

export function empty(): Resources {
  return { cpus: 0, mem: 0, disk: 0, gpus: 0, ports: [] };
}

export function make(partial: Partial<Resources>): Resources {
  return { ...empty(), ...partial, ports: normalizeRanges(partial.ports ?? []) };
}

export function clone(r: Resources): Resources {
  return { cpus: r.cpus, mem: r.mem, disk: r.disk, gpus: r.gpus, ports: r.ports.map((p) => ({ ...p })) };
}

export function isEmpty(r: Resources): boolean {
  return SCALARS.every((k) => r[k] <= EPSILON) && r.ports.length === 0;
}

/** Sorts and merges overlapping or adjacent ranges. */
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

function rangesContain(outer: readonly PortRange[], inner: readonly PortRange[]): boolean {
  return inner.every((i) => outer.some((o) => o.begin <= i.begin && i.end <= o.end));
}

function subtractRanges(from: readonly PortRange[], take: readonly PortRange[]): PortRange[] {
  let out = from.map((r) => ({ ...r }));
  for (const t of take) {
    const next: PortRange[] = [];
    for (const r of out) {
      if (t.end < r.begin || t.begin > r.end) { next.push(r); continue; }
      if (r.begin < t.begin) next.push({ begin: r.begin, end: t.begin - 1 });
      if (t.end < r.end) next.push({ begin: t.end + 1, end: r.end });
    }
    out = next;
  }
  return out;
}

export function add(a: Resources, b: Resources): Resources {
  return {
    cpus: a.cpus + b.cpus,
    mem: a.mem + b.mem,
    disk: a.disk + b.disk,
    gpus: a.gpus + b.gpus,
    ports: normalizeRanges([...a.ports, ...b.ports]),
  };
}

/** a - b; callers check `contains(a, b)` first where going negative would be a bug. */
export function subtract(a: Resources, b: Resources): Resources {
  const clamp = (x: number) => (Math.abs(x) < EPSILON ? 0 : x);
  return {
    cpus: clamp(a.cpus - b.cpus),
    mem: clamp(a.mem - b.mem),
    disk: clamp(a.disk - b.disk),
    gpus: clamp(a.gpus - b.gpus),
    ports: subtractRanges(a.ports, b.ports),
  };
}

export function contains(a: Resources, b: Resources): boolean {
  return SCALARS.every((k) => a[k] + EPSILON >= b[k]) && rangesContain(a.ports, b.ports);
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
    out.push(`needs ports ${formatRanges(want.ports)}, available ${formatRanges(have.ports) || 'none'}`);
  }
  return out;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2).replace(/0+$/, '');
}

export function formatRanges(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.begin === r.end ? `${r.begin}` : `${r.begin}-${r.end}`)).join(',');
}

export function portCount(ranges: readonly PortRange[]): number {
  return ranges.reduce((n, r) => n + r.end - r.begin + 1, 0);
}

/** `cpus:2 mem:1024 disk:0 gpus:0 ports:[31000-32000]`, for logs and errors. */
export function format(r: Resources): string {
  const parts = SCALARS.filter((k) => r[k] > 0).map((k) => `${k}:${fmt(r[k])}`);
  if (r.ports.length) parts.push(`ports:[${formatRanges(r.ports)}]`);
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
    if (idx < 0) throw new ResourceParseError(`resource "${raw}" has no value; write name:value, e.g. cpus:4`);
    const name = raw.slice(0, idx).trim();
    const value = raw.slice(idx + 1).trim();
    if (name === 'ports') {
      const m = /^\[(.*)\]$/.exec(value);
      if (!m) throw new ResourceParseError(`ports must be ranges in brackets, e.g. ports:[31000-32000]; got "${value}"`);
      out.ports = normalizeRanges(m[1]!.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
        const [b, e] = s.split('-').map((x) => Number(x.trim()));
        const begin = b!;
        const end = e ?? begin;
        if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > 65535 || end < begin) {
          throw new ResourceParseError(`bad port range "${s}" (want BEGIN-END within 0-65535)`);
        }
        return { begin, end };
      }));
    } else if ((SCALARS as readonly string[]).includes(name)) {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n) || n < 0) {
        throw new ResourceParseError(`resource ${name} must be a non-negative number; got "${value}"`);
      }
      out[name as ScalarName] = n;
    } else {
      throw new ResourceParseError(`unknown resource "${name}"; known: ${[...SCALARS, 'ports'].join(', ')}`);
    }
  }
  return out;
}

/** Bag → wire. Zero scalars are left out. */
export function toProto(r: Resources, role = '*'): Resource[] {
  const out: Resource[] = [];
  for (const k of SCALARS) if (r[k] > 0) out.push({ name: k, scalar: r[k], role });
  if (r.ports.length) out.push({ name: 'ports', ranges: r.ports.map((p) => ({ begin: p.begin, end: p.end })), role });
  return out;
}

export class InvalidResourceError extends Error {
  override name = 'InvalidResourceError';
}

/**
 * Wire → bag. Throws InvalidResourceError for what no agent could hold:
 * unknown names, negative, NaN or infinite scalars, inverted ranges.
 */
export function fromProto(list: readonly (Resource | Resource__Output)[]): Resources {
  const r = empty();
  for (const res of list) {
    const name = res.name ?? '';
    if (name === 'ports') {
      for (const p of res.ranges ?? []) {
        const begin = Number(p.begin);
        const end = Number(p.end);
        if (!(end >= begin)) throw new InvalidResourceError(`port range ${begin}-${end} is inverted`);
        r.ports.push({ begin, end });
      }
    } else if ((SCALARS as readonly string[]).includes(name)) {
      const v = Number(res.scalar ?? 0);
      if (!Number.isFinite(v)) throw new InvalidResourceError(`resource ${name} is ${v}; it must be a finite number`);
      if (v < 0) throw new InvalidResourceError(`resource ${name} is ${v}; it must not be negative`);
      r[name as ScalarName] += v;
    } else {
      throw new InvalidResourceError(`unknown resource "${name}"; known: ${[...SCALARS, 'ports'].join(', ')}`);
    }
  }
  r.ports = normalizeRanges(r.ports);
  return r;
}

/** The scalar part, for operator views. */
export function scalars(r: Resources): Record<ScalarName, number> {
  return { cpus: r.cpus, mem: r.mem, disk: r.disk, gpus: r.gpus };
}
