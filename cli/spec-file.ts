/**
 * Reading a spec the user hands to a framework (`mezz app deploy FILE`,
 * `mezz job create FILE`): JSON or YAML, from a file or stdin (`-`), checked
 * only as far as the CLI needs (that it parses, and the id it names); the
 * framework validates the rest and names each problem.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { errorMessage } from '../lib/errors';
import { UsageError } from './errors';

export interface SpecFile {
  /** The document as written: YAML is sent as it is (the frameworks read it). */
  text: string;
  id: string;
  yaml: boolean;
}

/** Reads a spec of a `kind` (`app`, `job`) and the id it names; UsageError naming the file when it cannot be read, parsed or names no id. */
export async function readSpecFile(file: string, kind: string, example: string): Promise<SpecFile> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${errorMessage(err)}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${file} is neither JSON nor YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  const id = (doc as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || !id) throw new UsageError(`${file} names no ${kind} id (the "id" field, e.g. ${example})`);
  return { text, id, yaml: !text.trimStart().startsWith('{') };
}

/** The body to send: YAML as written (a string goes as application/yaml), JSON as the object. */
export function specBody(spec: SpecFile): unknown {
  return spec.yaml ? spec.text : JSON.parse(spec.text);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
