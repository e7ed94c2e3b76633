/**
 * Request bodies: JSON, or YAML (`application/yaml`, `text/yaml`) parsed
 * to the same values and validated by the same schemas. A body that does not
 * parse is a BodySyntaxError naming the JSON path being read where it broke
 * and the line and column — V8's own message says neither (it quotes the
 * text instead). Keys that could poison prototypes (`__proto__`, a
 * `constructor` holding `prototype`) are refused, as fastify's own JSON
 * parser does.
 */
import YAML from 'yaml';
import { BodySyntaxError, childPointer } from './errors';

export const JSON_TYPES = ['application/json'] as const;
export const YAML_TYPES = ['application/yaml', 'text/yaml'] as const;

/** Line and column (1-based) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

function poisoned(key: string, value: unknown): boolean {
  return key === '__proto__' || (key === 'constructor' && !!value && typeof value === 'object' && 'prototype' in value);
}

class Broken {
  constructor(readonly offset: number, readonly path: string, readonly expected: string) {}
}

/**
 * Where `text`, which JSON.parse refused, first breaks: the offset, the JSON
 * path of the value being read, and what was expected there; undefined when
 * it does not break. A recursive scan, run only on refused bodies; nesting
 * too deep to scan reports the root.
 */
export function locateJsonError(text: string): { offset: number; path: string; expected: string } | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (path: string, expected: string): never => {
    throw new Broken(i, path, expected);
  };
  const string = (path: string): string => {
    const start = i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) return fail(path, 'a closing "');
      if (c === '"') break;
      if (c === '\\') {
        const esc = text[++i];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail(path, 'four hex digits after \\u');
          i += 4;
        } else if (esc === undefined || !'"\\/bfnrt'.includes(esc)) {
          fail(path, 'an escape: \\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX');
        }
      } else if (c < ' ') {
        fail(path, 'no control characters inside a string (escape them)');
      }
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const value = (path: string): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail(path, 'a property name in double quotes');
        const key = childPointer(path, string(path));
        ws();
        if (text[i] !== ':') fail(key, "':' after the property name");
        i++;
        value(key);
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') return void i++;
        fail(path, "',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value(childPointer(path, n));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') return void i++;
        fail(path, "',' or ']'");
      }
    }
    if (c === '"') return void string(path);
    literal.lastIndex = i;
    if (literal.test(text)) return void (i = literal.lastIndex);
    fail(path, 'a value (object, array, string, number, true, false or null)');
  };
  try {
    value('');
    ws();
    if (i < text.length) fail('', 'the end of the body');
    return undefined;
  } catch (err) {
    if (err instanceof Broken) return err;
    return { offset: 0, path: '', expected: 'valid JSON nested less deeply' };
  }
}

/** `text` parsed as JSON, or a BodySyntaxError saying where and why not. An empty body is no body. */
export function parseJsonBody(text: string): unknown {
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // V8's message quotes the body and gives no line; ours names the path, the line and the column.
    const where = locateJsonError(text) ?? { offset: 0, path: '', expected: 'JSON nested less deeply' };
    const { line, column } = lineColumn(text, where.offset);
    const found = where.offset < text.length ? `unexpected ${JSON.stringify(text[where.offset])}` : 'unexpected end of body';
    throw new BodySyntaxError('JSON', where.path || '/', `${found} at line ${line} column ${column}; expected ${where.expected}`);
  }
  refusePoisonedKeys('JSON', value);
  return value;
}
/**
 * `text` parsed as one YAML document (YAML 1.2 core schema: no timestamps,
 * no binary — the values JSON has), or a BodySyntaxError naming line and
 * column. Aliases are capped (yaml's default, 100) against expansion bombs.
 */
export function parseYamlBody(text: string): unknown {
  const doc = YAML.parseDocument(text, { resolveKnownTags: false, uniqueKeys: true });
  const bad = doc.errors[0];
  if (bad) {
    const pos = bad.linePos?.[0];
    const where = pos ? ` at line ${pos.line} column ${pos.col}` : '';
    const problem = bad.code === 'MULTIPLE_DOCS' ? 'the body holds more than one YAML document; send one' : bad.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new BodySyntaxError('YAML', '/', `${problem}${where}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new BodySyntaxError('YAML', '/', err instanceof Error ? err.message : String(err));
  }
  refusePoisonedKeys('YAML', value);
  return value;
}

/**
 * Throws at the first key that could poison a prototype. Iterative, so a
 * deeply nested body cannot overflow the stack; each object is visited once
 * (YAML aliases share objects, and may loop).
 */
function refusePoisonedKeys(format: 'JSON' | 'YAML', root: unknown): void {
  const seen = new Set<object>();
  const todo: [unknown, string][] = [[root, '']];
  for (let next = todo.pop(); next; next = todo.pop()) {
    const [value, path] = next;
    if (!value || typeof value !== 'object' || seen.has(value)) continue;
    seen.add(value);
    for (const [key, child] of Object.entries(value)) {
      const at = childPointer(path, key);
      if (poisoned(key, child)) throw new BodySyntaxError(format, at, `the property name ${key} is not allowed`);
      todo.push([child, at]);
    }
  }
}

/**
 * A document given as text where it was not parsed on the way in (a body
 * a framework reads itself, a file): JSON first (the usual case), else YAML,
 * which also reads JSON with a trailing comma. An error names why, briefly.
 */
export function readBodyText(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch {
    try {
      return { value: YAML.parse(text, { maxAliasCount: 100 }) };
    } catch (err) {
      return { error: `the body is neither JSON nor YAML: ${(err as Error).message.split('\n')[0]?.slice(0, 200)}` };
    }
  }
}
