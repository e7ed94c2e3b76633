/**
 * The tree both sorters keep: nodes for role paths, client leaves, and the
 * allocation of every subtree. How active children are ordered is left to
 * the subclass (a heap for DRF, a bag for random) through three hooks.
 *
 *            (root)
 *           /      \
 *         eng      ops        eng.alloc = eng/. + eng/ml + eng/web
 *       /  |  \
 *      .   ml  web            '.' is a virtual leaf: the client "eng"
 *                             itself, once "eng" also has children
 *
 * A node sits in its parent's `order` exactly when its subtree holds at
 * least one active client, so an ordering walk never meets dead branches.
 */
import { AllocationUnderflowError, DuplicateClientError, InvalidRoleError, InvalidWeightError, UnknownClientError } from './errors';
import type { Quantities, SorterKind, SorterOptions } from './sorter';

/** Name of the leaf that stands for a client which also has child roles (Mesos' convention). */
export const VIRTUAL_LEAF = '.';

/** Below this, a quantity left over after subtracting is float noise, not resources. */
const EPSILON = 1e-9;

export class RoleNode {
  /** Active client leaves in this subtree, this node included. */
  activeClients = 0;
  /** For a client leaf, the client's name (for a virtual leaf, its parent's path); else null. */
  client: string | null = null;
  active = false;
  readonly children = new Map<string, RoleNode>();
  weight = 1;
  cpus = 0;
  mem = 0;
  disk = 0;
  gpus = 0;
  /** Active children, arranged by the sorter (heap or bag). */
  order: RoleNode[] = [];
  /** Position in `parent.order`; -1 when not there. */
  orderIndex = -1;
  /** Children in `order` whose weight is not 1 (lets the random sorter skip weighted draws). */
  weightedChildren = 0;
  /** The sorter's ordering key (DRF: weighted dominant share). */
  key = 0;

  constructor(
    readonly name: string,
    /** Full path ('' for the root; `eng/.` for a virtual leaf), the key for weights. */
    readonly path: string,
    public parent: RoleNode | null,
  ) {}
}

/** max over kinds of allocated/total, ignoring kinds the cluster has none of. */
export function dominantShareOf(a: Quantities, total: Quantities): number {
  let s = 0;
  if (total.cpus > 0) s = Math.max(s, a.cpus / total.cpus);
  if (total.mem > 0) s = Math.max(s, a.mem / total.mem);
  if (total.disk > 0) s = Math.max(s, a.disk / total.disk);
  if (total.gpus > 0) s = Math.max(s, a.gpus / total.gpus);
  return s;
}

/**
 * Bookkeeping common to every sorter. Subclasses supply the order of active
 * children (`insertChild`, `removeChild`, `updateChild`) and the walks over
 * it (`sort`, `first`).
 */
export abstract class RoleTree {
  abstract readonly kind: SorterKind;
  protected readonly root = new RoleNode('', '', null);
  protected total: Quantities = { cpus: 0, mem: 0, disk: 0, gpus: 0 };
  private readonly clients = new Map<string, RoleNode>();
  private readonly weights = new Map<string, number>();
  private readonly hierarchical: boolean;

  constructor(opts: SorterOptions) {
    this.hierarchical = opts.hierarchical;
  }

  /** `child` just became active (it was not in `parent.order`). */
  protected abstract insertChild(parent: RoleNode, child: RoleNode): void;
  /** `child` has no active client left (it is in `parent.order`). */
  protected abstract removeChild(parent: RoleNode, child: RoleNode): void;
  /** `child`'s allocation or weight changed while it is in `parent.order`. */
  protected abstract updateChild(parent: RoleNode, child: RoleNode): void;
  /** The total changed: every key may have moved. */
  protected abstract totalChanged(): void;

  setTotal(total: Quantities): void {
    this.total = { cpus: total.cpus, mem: total.mem, disk: total.disk, gpus: total.gpus };
    this.totalChanged();
  }

  add(client: string, opts: { active?: boolean } = {}): void {
    if (this.clients.has(client)) throw new DuplicateClientError(client);
    const segments = this.split(client);
    let node = this.root;
    for (const segment of segments) {
      let child = node.children.get(segment);
      if (child === undefined) {
        // A client leaf that gains a child keeps competing through a virtual leaf.
        if (node.client !== null) this.pushDownToVirtualLeaf(node);
        child = this.newNode(segment, node);
      }
      node = child;
    }
    if (node.children.size > 0) node = this.newNode(VIRTUAL_LEAF, node);
    node.client = client;
    this.clients.set(client, node);
    if (opts.active ?? true) this.activateLeaf(node);
  }

  remove(client: string): void {
    const leaf = this.leaf(client);
    this.deactivateLeaf(leaf);
    // What the client held no longer counts towards its roles' shares.
    this.adjust(leaf, leaf, -1);
    this.clients.delete(client);
    leaf.client = null;
    let node = leaf;
    while (node.parent !== null && node.client === null && node.children.size === 0) {
      node.parent.children.delete(node.name);
      node = node.parent;
    }
    // A virtual leaf left without siblings stays: it orders exactly as the plain leaf would.
  }

  contains(client: string): boolean {
    return this.clients.has(client);
  }

  activate(client: string): void {
    this.activateLeaf(this.leaf(client));
  }

  deactivate(client: string): void {
    this.deactivateLeaf(this.leaf(client));
  }

  setWeight(path: string, weight: number): void {
    if (!(Number.isFinite(weight) && weight > 0)) throw new InvalidWeightError(path, weight);
    this.split(path);
    this.weights.set(path, weight);
    const node = this.find(path);
    if (node === undefined || node.weight === weight) return;
    const parent = node.parent!;
    if (node.orderIndex >= 0) parent.weightedChildren += (weight !== 1 ? 1 : 0) - (node.weight !== 1 ? 1 : 0);
    node.weight = weight;
    if (node.orderIndex >= 0) this.updateChild(parent, node);
  }

  allocated(client: string, resources: Quantities): void {
    this.adjust(this.leaf(client), resources, 1);
  }

  unallocated(client: string, resources: Quantities): void {
    const leaf = this.leaf(client);
    for (const k of ['cpus', 'mem', 'disk', 'gpus'] as const) {
      if (leaf[k] - resources[k] < -EPSILON) {
        throw new AllocationUnderflowError(client, `it holds ${leaf[k]} ${k}, asked to give back ${resources[k]}`);
      }
    }
    this.adjust(leaf, resources, -1);
  }

  allocation(path: string): Quantities {
    this.split(path);
    const node = this.find(path);
    if (node === undefined) return { cpus: 0, mem: 0, disk: 0, gpus: 0 };
    return { cpus: node.cpus, mem: node.mem, disk: node.disk, gpus: node.gpus };
  }

  share(path: string): number {
    return dominantShareOf(this.allocation(path), this.total);
  }

  abstract sort(): string[];
  abstract first(accept: (client: string) => boolean): string | undefined;

  protected leaf(client: string): RoleNode {
    const node = this.clients.get(client);
    if (node === undefined) throw new UnknownClientError(client);
    return node;
  }

  /** The node at a role path (inner or client), not its virtual leaf. */
  private find(path: string): RoleNode | undefined {
    if (!this.hierarchical) return this.root.children.get(path);
    let node: RoleNode | undefined = this.root;
    for (const segment of path.split('/')) {
      node = node.children.get(segment);
      if (node === undefined) return undefined;
    }
    return node;
  }

  private split(path: string): string[] {
    if (path === '') throw new InvalidRoleError(path, 'it is empty');
    if (!this.hierarchical) return [path];
    const segments = path.split('/');
    for (const s of segments) {
      if (s === '') throw new InvalidRoleError(path, 'it has an empty name between slashes');
      if (s === VIRTUAL_LEAF || s === '..') throw new InvalidRoleError(path, `"${s}" is reserved`);
    }
    return segments;
  }

  private newNode(name: string, parent: RoleNode): RoleNode {
    const path = parent === this.root ? name : `${parent.path}/${name}`;
    const node = new RoleNode(name, path, parent);
    node.weight = this.weights.get(path) ?? 1;
    parent.children.set(name, node);
    return node;
  }

  /** Moves a client leaf's identity into a new `.` child; the node's subtree sums are unchanged. */
  private pushDownToVirtualLeaf(node: RoleNode): void {
    const virtual = this.newNode(VIRTUAL_LEAF, node);
    virtual.client = node.client;
    virtual.active = node.active;
    virtual.activeClients = node.activeClients;
    virtual.cpus = node.cpus;
    virtual.mem = node.mem;
    virtual.disk = node.disk;
    virtual.gpus = node.gpus;
    this.clients.set(node.client!, virtual);
    node.client = null;
    node.active = false;
    if (virtual.activeClients > 0) this.attach(node, virtual);
  }

  private activateLeaf(leaf: RoleNode): void {
    if (leaf.active) return;
    leaf.active = true;
    for (let n: RoleNode = leaf; n.parent !== null; n = n.parent) {
      n.activeClients++;
      if (n.activeClients === 1) this.attach(n.parent, n);
    }
    this.root.activeClients++;
  }

  private deactivateLeaf(leaf: RoleNode): void {
    if (!leaf.active) return;
    leaf.active = false;
    for (let n: RoleNode = leaf; n.parent !== null; n = n.parent) {
      n.activeClients--;
      if (n.activeClients === 0) this.detach(n.parent, n);
    }
    this.root.activeClients--;
  }

  private attach(parent: RoleNode, child: RoleNode): void {
    if (child.weight !== 1) parent.weightedChildren++;
    this.insertChild(parent, child);
  }

  private detach(parent: RoleNode, child: RoleNode): void {
    if (child.weight !== 1) parent.weightedChildren--;
    this.removeChild(parent, child);
  }

  /** Adds `sign * q` to a leaf and every ancestor, re-ordering each where it sits in its parent's order. */
  private adjust(leaf: RoleNode, q: Quantities, sign: 1 | -1): void {
    const dc = sign * q.cpus;
    const dm = sign * q.mem;
    const dd = sign * q.disk;
    const dg = sign * q.gpus;
    for (let n: RoleNode | null = leaf; n !== null; n = n.parent) {
      n.cpus = clean(n.cpus + dc);
      n.mem = clean(n.mem + dm);
      n.disk = clean(n.disk + dd);
      n.gpus = clean(n.gpus + dg);
      if (n.orderIndex >= 0) this.updateChild(n.parent!, n);
    }
  }
}

function clean(x: number): number {
  return x < EPSILON && x > -EPSILON ? 0 : x;
}
