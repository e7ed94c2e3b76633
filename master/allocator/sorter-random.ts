/**
 * The trivial alternative to DRF (Mesos `sorter/random/`): at every node of
 * the role tree, children are taken in a random order weighted by their role
 * weights (a child of weight 3 is three times as likely as one of weight 1
 * to come first), ignoring allocations. Each `sort()` or `first()` draws a
 * fresh order from the injected `rng`, so a seed replays a run exactly.
 *
 * It keeps the same bookkeeping as DRF (role-tree.ts): the shared sorter
 * suite checks both, and comparing the two shows what fairness buys.
 */
import type { RoleNode } from './role-tree';
import { RoleTree } from './role-tree';
import type { Sorter, SorterOptions } from './sorter';

export class RandomSorter extends RoleTree implements Sorter {
  readonly kind = 'random' as const;

  /** `rng` returns uniform numbers in [0, 1), like Math.random (which must not be passed in core code). */
  constructor(
    private readonly rng: () => number,
    opts: SorterOptions = { hierarchical: true },
  ) {
    super(opts);
  }

  sort(): string[] {
    const out: string[] = [];
    this.search(this.root, (client) => {
      out.push(client);
      return false;
    });
    return out;
  }

  first(accept: (client: string) => boolean): string | undefined {
    return this.search(this.root, accept);
  }

  /**
   * Draws children without replacement, in place: position i of the bag is
   * filled by a draw from positions i..n-1 (a partial Fisher–Yates shuffle),
   * so accepting the first draw costs O(1) when all weights are equal and
   * O(fan-out) when they differ. The bag's arrangement is arbitrary anyway,
   * so the swaps need no undoing.
   */
  private search(node: RoleNode, accept: (client: string) => boolean): string | undefined {
    const bag = node.order;
    const n = bag.length;
    let remaining = 0;
    if (node.weightedChildren > 0) for (const child of bag) remaining += child.weight;
    for (let i = 0; i < n; i++) {
      let j: number;
      if (node.weightedChildren === 0) {
        j = i + Math.floor(this.rng() * (n - i));
      } else {
        let x = this.rng() * remaining;
        j = i;
        while (j < n - 1 && x >= bag[j]!.weight) x -= bag[j++]!.weight;
      }
      if (j > n - 1) j = n - 1;
      const child = bag[j]!;
      const displaced = bag[i]!;
      bag[j] = displaced;
      displaced.orderIndex = j;
      bag[i] = child;
      child.orderIndex = i;
      remaining -= child.weight;
      const found = child.client !== null ? (accept(child.client) ? child.client : undefined) : this.search(child, accept);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  protected insertChild(parent: RoleNode, child: RoleNode): void {
    child.orderIndex = parent.order.length;
    parent.order.push(child);
  }

  protected removeChild(parent: RoleNode, child: RoleNode): void {
    const last = parent.order.pop()!;
    if (last !== child) {
      parent.order[child.orderIndex] = last;
      last.orderIndex = child.orderIndex;
    }
    child.orderIndex = -1;
  }

  protected updateChild(): void {
    // Allocations do not move anyone in a random order.
  }

  protected totalChanged(): void {
    // Shares are only reported, never used for ordering.
  }
}
