/**
 * Agent attributes from `--attributes 'rack:r1;zone:a'`: text labels that
 * frameworks match in placement constraints (unique host, group by, like).
 */
import type { Attribute } from '../lib/proto';
import { AttributeParseError } from './errors';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$/;

/**
 * Parses `name:value;name:value`. Empty input gives no attributes. Throws
 * AttributeParseError naming the bad part: a missing `:`, an empty or
 * malformed name, an empty value, a name given twice.
 */
export function parseAttributes(text: string): Attribute[] {
  const out: Attribute[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const idx = raw.indexOf(':');
    if (idx < 0) throw new AttributeParseError(`attribute "${raw}" has no value; write name:value, e.g. rack:r1`);
    const name = raw.slice(0, idx).trim();
    const value = raw.slice(idx + 1).trim();
    if (!NAME.test(name)) {
      throw new AttributeParseError(
        `attribute name "${name}" in "${raw}" is not valid; use letters, digits, _ . - /, e.g. rack:r1`,
      );
    }
    if (!value) throw new AttributeParseError(`attribute ${name} has an empty value; write name:value, e.g. rack:r1`);
    if (seen.has(name)) throw new AttributeParseError(`attribute ${name} is given twice`);
    seen.add(name);
    out.push({ name, text: value });
  }
  return out;
}
