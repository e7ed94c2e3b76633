import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { checkCode, type LoadCheck } from '../../frameworks/functions/load-check';

/** A zip archive of `files`, stored uncompressed (the smallest valid zip: local headers, central directory, end record). */
function zipOf(files: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of Object.entries(files)) {
    const data = Buffer.from(text);
    const fname = Buffer.from(name);
    const common = (h: Buffer, at: number) => {
      h.writeUInt32LE(crc32(data), at);
      h.writeUInt32LE(data.length, at + 4);
      h.writeUInt32LE(data.length, at + 8);
      h.writeUInt16LE(fname.length, at + 12);
    };
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    common(local, 14);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(10, 4);
    central.writeUInt16LE(10, 6);
    common(central, 16);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data);
    centrals.push(central, fname);
    offset += local.length + fname.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

const HAS_UNZIP = (() => {
  try {
    execFileSync('unzip', ['-v'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function refused(r: LoadCheck, pattern: RegExp, line?: number): void {
  assert.ok(r.error !== undefined, `expected a refusal, got ${JSON.stringify(r)}`);
  assert.match(r.error, pattern);
  assert.equal(r.line, line);
}

describe('checkCode: Node.js, loaded in a child process', () => {
  it('accepts a good module: function main', async () => {
    assert.deepEqual(await checkCode('nodejs:20', 'function main(params) {\n  return { hi: params.name };\n}\n', undefined, false), { ok: true });
  });

  it('accepts a named entry given by exports', async () => {
    assert.deepEqual(await checkCode('nodejs:20', 'exports.hello = (params) => params;\n', 'hello', false), { ok: true });
  });

  it('accepts a module that prints while it loads (the answer travels apart from stdout)', async () => {
    assert.deepEqual(await checkCode('nodejs:20', 'console.log("{not json");\nmodule.exports.main = () => ({})\n', 'main', false), { ok: true });
  });

  it('refuses a syntax error with its line', async () => {
    refused(await checkCode('nodejs:20', 'function main() {\n  const a = 1;\n  return a +;\n}\n', undefined, false), /^SyntaxError: Unexpected token ';' at line 3$/, 3);
  });

  it('refuses a module with no main', async () => {
    refused(await checkCode('nodejs:20', 'function other() {}\n', undefined, false), /the entry 'main' is not defined/);
  });

  it('refuses an entry that is not a function', async () => {
    refused(await checkCode('nodejs:20', 'exports.main = 42;\n', 'main', false), /the entry 'main' is a number, not a function/);
  });

  it('refuses a named entry the module lacks', async () => {
    refused(await checkCode('nodejs:20', 'function main() {}\n', 'handler', false), /the entry 'handler' is not defined/);
  });

  it('refuses a module that throws while loading, with the message and line', async () => {
    refused(await checkCode('nodejs:20', 'const x = 1;\nthrow new Error("no config");\nfunction main() {}\n', undefined, false), /^the code throws while loading: Error: no config \(line 2\)$/, 2);
  });

  it('refuses a module that exits the process while loading', async () => {
    refused(await checkCode('nodejs:20', 'process.exit(3);\n', undefined, false), /exited with code 3/);
  });

  it('refuses a module that runs out of memory while loading, naming the heap limit', async () => {
    refused(await checkCode('nodejs:20', 'const keep = [];\nfor (;;) keep.push(new Array(1e6).fill(1));\n', undefined, false, { memoryMb: 64, timeoutMs: 20_000 }), /ran out of memory while loading \(heap limit 64 MB\)/);
  });

  it('stops a module that loops forever at the timeout', async () => {
    const started = Date.now();
    refused(await checkCode('nodejs:20', 'while (true) {}\n', undefined, false, { timeoutMs: 1000 }), /did not finish loading within 1000 ms/);
    // Killed at the deadline, not left to run: well under the default 5 s.
    assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
  });

  it('does not hand the caller\'s environment to the code', async () => {
    process.env.MEZZ_TEST_SECRET = 'hunter2';
    try {
      refused(await checkCode('nodejs:20', 'if (process.env.MEZZ_TEST_SECRET) throw new Error("leaked");\n', undefined, false), /not defined/);
    } finally {
      delete process.env.MEZZ_TEST_SECRET;
    }
  });

  it('loads a zipped action: index.js, and file.entry', { skip: !HAS_UNZIP && 'unzip is not installed' }, async () => {
    const zip = zipOf({ 'index.js': 'exports.main = () => ({});\n', 'lib.js': 'exports.run = () => ({});\nexports.notFn = 1;\n' }).toString('base64');
    assert.deepEqual(await checkCode('nodejs:20', zip, undefined, true), { ok: true });
    assert.deepEqual(await checkCode('nodejs:20', zip, 'lib.run', true), { ok: true });
    refused(await checkCode('nodejs:20', zip, 'lib.notFn', true), /the entry 'lib.notFn' is a number/);
    refused(await checkCode('nodejs:20', zipOf({ 'lib.js': '' }).toString('base64'), undefined, true), /must hold package.json or index.js at its root/);
  });

  it('refuses binary code that is not a zip', async () => {
    refused(await checkCode('nodejs:20', Buffer.from('not a zip').toString('base64'), undefined, true), /must be a base64 zip archive/);
  });
});

describe('checkCode: command', () => {
  it('accepts a #! script whose interpreter exists', async () => {
    assert.deepEqual(await checkCode('command', '#!/bin/sh\ncat\n', undefined, false), { ok: true });
  });

  it('accepts #!/usr/bin/env with an interpreter on PATH', async () => {
    assert.deepEqual(await checkCode('command', '#!/usr/bin/env sh\ncat\n', undefined, false), { ok: true });
  });

  it('refuses an interpreter that is not installed, on line 1', async () => {
    refused(await checkCode('command', '#!/usr/bin/env no-such-interpreter-9\n', undefined, false), /no-such-interpreter-9 named on the #! line is not installed/, 1);
    refused(await checkCode('command', '#!/no/such/sh\n', undefined, false), /\/no\/such\/sh named on the #! line/, 1);
  });

  it('checks a script with no #! as sh reads it, without running it, and names the line', async () => {
    assert.deepEqual(await checkCode('command', 'read input\necho "{}"\n', undefined, false), { ok: true });
    const r = await checkCode('command', 'echo hi\nif true; then\n  echo x\n', undefined, false);
    assert.ok(r.error !== undefined, JSON.stringify(r));
    assert.match(r.error, /^shell .* at line \d+$/);
    // dash blames the end of input (line 4), bash the line it stopped on; both at or after the open `if`'s body.
    assert.ok(r.line !== undefined && r.line >= 3, `line ${r.line}`);
  });

  it('refuses empty code', async () => {
    refused(await checkCode('command', ' \n', undefined, false), /the code is empty/);
  });

  it('accepts an ELF binary and refuses other binary code', async () => {
    assert.deepEqual(await checkCode('command', Buffer.from('\x7fELF\x02\x01\x01', 'latin1').toString('base64'), undefined, true), { ok: true });
    refused(await checkCode('command', Buffer.from('MZ\x90\x00').toString('base64'), undefined, true), /a #! script or an ELF program/);
  });
});
