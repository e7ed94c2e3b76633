/**
 * An app's `constraints`, handed to the SDK's Marathon constraints.
 *
 *   [["@zone", "GROUP_BY", "3"], ["hostname", "UNIQUE"]]
 *     ──toSdkConstraint──▶ ["zone", "GROUP_BY", "3"], ["hostname", "UNIQUE"]
 *     ──appPlacement──▶ Where (one predicate for pack/spread)
 *
 * The SDK parses, validates and checks the operators (frameworks/sdk/
 * constraints.ts); this file only maps Marathon's field names onto what a
 * Mezzanine agent has. Mesos gives `@zone` and `@region` from an agent's
 * fault domain; a Mezzanine agent declares them as the attributes `zone` and
 * `region` (`--attributes 'zone:a;region:eu'`), so they read those.
 */
import { ConstraintError, constraints, parseConstraint, type ConstraintSpec, type Where } from '../sdk/index';

/** Marathon's fault-domain fields and the agent attributes that carry them here. */
const DOMAIN_FIELDS: Readonly<Record<string, string>> = { '@zone': 'zone', '@region': 'region' };

/** An app constraint `[field, operator, value?]` in the SDK's form: `@zone`/`@region` become attributes. */
export function toSdkConstraint(c: readonly string[]): ConstraintSpec {
  const [field = '', ...rest] = c;
  return [DOMAIN_FIELDS[field] ?? field, ...rest];
}

/**
 * The reason each constraint the SDK would refuse is wrong, keyed by its
 * index in `list` (unknown operator, a count that is not a whole number,
 * a regex that does not compile, a value where none is taken…).
 */
export function constraintErrors(list: readonly (readonly string[])[]): Map<number, string> {
  const out = new Map<number, string>();
  list.forEach((c, i) => {
    const field = c[0] ?? '';
    if (field.startsWith('@') && field !== '@hostname' && !DOMAIN_FIELDS[field]) {
      out.set(i, `constraint field ${JSON.stringify(field.slice(0, 64))} is unknown; the @ fields are @hostname, @zone and @region (attributes are named without @)`);
      return;
    }
    try {
      parseConstraint(toSdkConstraint(c));
    } catch (err) {
      if (!(err instanceof ConstraintError)) throw err;
      out.set(i, err.message);
    }
  });
  return out;
}

/**
 * All of an app's constraints as one placement predicate. Throws
 * ConstraintError on a bad constraint, which `parseApp` has already refused.
 */
export function appPlacement(app: { constraints: readonly (readonly string[])[] }): Where {
  return constraints(app.constraints.map(toSdkConstraint));
}
