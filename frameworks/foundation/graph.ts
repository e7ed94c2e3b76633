/**
 * Dependency graphs, for every framework that orders work by what it
 * depends on: the services framework's app dependencies and groups, the
 * batch framework's job DAGs. Pure.
 */

/**
 * A dependency cycle reachable from `from`, as the path that closes it
 * (`/a → /b → /a`), or undefined. `dependsOn(id)` gives an id's edges, or
 * undefined for an id outside the world (which ends the path there).
 */
export function findCycle(dependsOn: (id: string) => readonly string[] | undefined, from: readonly string[]): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const at = path.indexOf(id);
    if (at >= 0) return [...path.slice(at), id];
    const deps = done.has(id) ? undefined : dependsOn(id);
    if (!deps) return undefined;
    path.push(id);
    for (const dep of deps) {
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    done.add(id);
    return undefined;
  };
  for (const id of [...from].sort()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}
