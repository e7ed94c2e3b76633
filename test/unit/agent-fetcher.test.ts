/**
 * The fetcher against a loopback HTTP server and local files: plain files,
 * tarballs and zips extracted, executables, output names, and each way a
 * fetch fails, with the reason a framework will read.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chown, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fetchUris, uriProblem } from '../../agent/fetcher';
import { tempDir } from '../fixtures/agent-harness';
import { rootOrSkip } from '../harness';

let dir: string;
let files: string;
let server: http.Server;
let base = '';
const sockets = new Set<import('node:net').Socket>();

before(async () => {
  dir = await tempDir('mezz-fetcher-test-');
  files = join(dir, 'served');
  await mkdir(join(files, 'pkg'), { recursive: true });
  await writeFile(join(files, 'pkg', 'run.sh'), '#!/bin/sh\necho from the tarball\n', { mode: 0o755 });
  await writeFile(join(files, 'hello.txt'), 'hello\n');
  execFileSync('tar', ['-czf', join(files, 'pkg.tar.gz'), '-C', files, 'pkg']);
  execFileSync('zip', ['-q', '-r', join(files, 'pkg.zip'), 'pkg'], { cwd: files });
  server = http.createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    if (req.url === '/big') { res.writeHead(200, { 'content-length': String(10_000) }); res.end(Buffer.alloc(10_000)); return; }
    readFile(join(files, decodeURIComponent(req.url!.slice(1)))).then(
      (data) => { res.writeHead(200); res.end(data); },
      () => { res.writeHead(404, 'Not Found'); res.end(); },
    );
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const s of sockets) s.destroy();
  server.close();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function sandbox(): Promise<string> {
  const d = join(dir, `sandbox-${n++}`);
  await mkdir(d);
  return d;
}
const opts = (sb: string, o: Partial<Parameters<typeof fetchUris>[1]> = {}) => ({ sandbox: sb, timeoutMs: 5000, maxBytes: 1 << 20, ...o });

describe('fetchUris', () => {
  it('downloads over HTTP and extracts a tarball into the sandbox', async () => {
    const sb = await sandbox();
    const r = await fetchUris([{ value: `${base}/pkg.tar.gz` }, { value: `${base}/hello.txt` }], opts(sb));
    assert.deepEqual(r, { ok: true, files: [join(sb, 'pkg.tar.gz'), join(sb, 'hello.txt')] });
    assert.equal(execFileSync(join(sb, 'pkg', 'run.sh')).toString(), 'from the tarball\n');
    assert.equal(await readFile(join(sb, 'hello.txt'), 'utf8'), 'hello\n');
  });

  it('a tarball with padding after its end-of-archive blocks extracts (tar stops reading there and closes its input)', async () => {
    // 2 MB of zeros after the tar: tar exits at the end marker while the padding is still being written to it.
    const tarball = join(files, 'padded.tar');
    execFileSync('tar', ['-cf', tarball, '-C', files, 'pkg']);
    await writeFile(tarball, Buffer.concat([await readFile(tarball), Buffer.alloc(2 * 1024 * 1024)]));
    execFileSync('gzip', ['-kf', tarball]);
    const sb = await sandbox();
    const r = await fetchUris([{ value: `${base}/padded.tar.gz` }], opts(sb, { maxBytes: 4 << 20 }));
    assert.deepEqual(r, { ok: true, files: [join(sb, 'padded.tar.gz')] });
    assert.equal(execFileSync(join(sb, 'pkg', 'run.sh')).toString(), 'from the tarball\n');
  });

  it('extracts zips, and leaves archives alone with extract: false', async () => {
    const sb = await sandbox();
    assert.equal((await fetchUris([{ value: `${base}/pkg.zip` }], opts(sb))).ok, true);
    await stat(join(sb, 'pkg', 'run.sh'));
    const sb2 = await sandbox();
    assert.equal((await fetchUris([{ value: `${base}/pkg.zip`, extract: false }], opts(sb2))).ok, true);
    await assert.rejects(stat(join(sb2, 'pkg')));
  });

  it('copies local files (absolute path and file://), names them by output_file, and chmods executables', async () => {
    const sb = await sandbox();
    const r = await fetchUris([
      { value: join(files, 'hello.txt'), outputFile: 'conf/greeting' },
      { value: `file://${join(files, 'hello.txt')}`, executable: true },
    ], opts(sb));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(await readFile(join(sb, 'conf', 'greeting'), 'utf8'), 'hello\n');
    assert.equal((await stat(join(sb, 'hello.txt'))).mode & 0o777, 0o755);
  });

  const failures: { name: string; uri: () => string; o?: object; want: RegExp }[] = [
    { name: 'a 404', uri: () => `${base}/missing.tar.gz`, want: /^HTTP 404 Not Found$/ },
    { name: 'a missing local file', uri: () => '/nonexistent/file', want: /^no such file$/ },
    { name: 'a file over the size limit', uri: () => `${base}/big`, o: { maxBytes: 1000 }, want: /10000 bytes, over the fetcher's limit of 1000 \(agent flag --fetcher-max-size\)/ },
    { name: 'a server that never answers', uri: () => `${base}/hang`, o: { timeoutMs: 200 }, want: /gave up after the fetcher timeout of 0.2 s \(agent flag --fetcher-timeout\)/ },
    { name: 'an unsupported scheme', uri: () => 'ftp://example.com/x', want: /scheme ftp: is not supported: use http:\/\/, https:\/\/, file:\/\/ or an absolute path/ },
  ];
  for (const f of failures) {
    it(`fails on ${f.name}, naming the URI`, async () => {
      const uri = f.uri();
      const r = await fetchUris([{ value: `${base}/hello.txt` }, { value: uri }], opts(await sandbox(), f.o));
      assert.equal(r.ok, false);
      if (r.ok) return;
      assert.equal(r.uri, uri);
      assert.match(r.reason, f.want);
    });
  }

  it('fails on an archive that cannot be extracted, saying why', async () => {
    await writeFile(join(files, 'broken.tar.gz'), 'not a tarball');
    const r = await fetchUris([{ value: `${base}/broken.tar.gz` }], opts(await sandbox()));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /^cannot extract broken\.tar\.gz: (gzip exited with status 1|tar exited with status 2): /);
  });

  it('as the task\'s user: what it fetches is its own, and a file it may not read is refused, not copied', async (t) => {
    if (!rootOrSkip(t, 'fetching as the task\'s user')) return;
    const nobody = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' };
    const sb = await sandbox();
    await chown(sb, nobody.uid, nobody.gid);
    const r = await fetchUris([{ value: `${base}/pkg.tar.gz` }, { value: `${base}/hello.txt`, outputFile: 'conf/hello' }], opts(sb, { user: nobody }));
    assert.equal(r.ok, true, JSON.stringify(r));
    for (const f of ['pkg.tar.gz', 'pkg/run.sh', 'conf', 'conf/hello']) assert.equal((await stat(join(sb, f))).uid, nobody.uid, f);
    // The served files lie in the test's 0700 temporary directory: nobody may not read them.
    const local = join(files, 'hello.txt');
    const denied = await fetchUris([{ value: `file://${local}` }], opts(sb, { user: nobody }));
    assert.deepEqual(denied, {
      ok: false, uri: `file://${local}`,
      reason: `permission denied: the fetcher reads local files as the task's user nobody (uid 65534), who may not read ${local}`,
    });
    assert.deepEqual((await readdir(sb)).sort(), ['conf', 'pkg', 'pkg.tar.gz']);
  });

  it('stops when aborted (the task was killed)', async () => {
    const ac = new AbortController();
    const p = fetchUris([{ value: `${base}/hang` }], opts(await sandbox(), { signal: ac.signal }));
    ac.abort();
    const r = await p;
    assert.deepEqual(r, { ok: false, uri: `${base}/hang`, reason: 'the task was killed while fetching' });
  });
});

describe('uriProblem', () => {
  const cases = [
    { value: '', want: 'the URI is empty' },
    { value: 'relative/path', want: 'not a URI: use http://, https://, file:// or an absolute path' },
    { value: 'http://h/', want: 'cannot name the file from the URI (its path has no last segment); set output_file' },
    { value: 'http://h/x', outputFile: '../escape', want: 'output_file "../escape" must name a file inside the sandbox: a relative path without ".." segments' },
    { value: 'https://h/a.tgz', want: undefined },
  ];
  for (const c of cases) it(`${c.value || '(empty)'} ${c.outputFile ?? ''}`, () => assert.equal(uriProblem(c), c.want));
});

describe('fetchUris against hostile archives', () => {
  it('caps what a tarball extracts to, naming the limit (a 100 KB tar.gz of 20 MB of zeros)', async () => {
    const src = join(dir, 'bomb');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'zeros'), Buffer.alloc(20 * 1024 * 1024));
    execFileSync('tar', ['-czf', join(files, 'bomb.tar.gz'), '-C', src, 'zeros']);
    const box = await sandbox();
    const r = await fetchUris([{ value: `${base}/bomb.tar.gz` }], opts(box, { maxExtractedBytes: 1024 * 1024 }));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /^cannot extract bomb\.tar\.gz: it extracts to more than 1048576 bytes, the limit/);
    await assert.rejects(stat(join(box, 'zeros')), 'nothing of the bomb is left in the sandbox');
  });

  it('caps a zip by its declared size', async () => {
    const src = join(dir, 'zbomb');
    await mkdir(src, { recursive: true });
    await writeFile(join(src, 'zeros'), Buffer.alloc(4 * 1024 * 1024));
    execFileSync('zip', ['-q', join(files, 'bomb.zip'), 'zeros'], { cwd: src });
    const r = await fetchUris([{ value: `${base}/bomb.zip` }], opts(await sandbox(), { maxExtractedBytes: 1024 * 1024 }));
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, /^cannot extract bomb\.zip: it would extract to 4194304 bytes, over the limit of 1048576/);
  });

  it('a symlink planted by one archive does not let a later URI write outside the sandbox', async () => {
    const outside = join(dir, 'outside');
    await mkdir(outside, { recursive: true });
    // Archive 1 plants `evil` → the outside directory; archive 2 holds evil/owned; URI 3 names evil/x as its output file.
    const a1 = join(dir, 'a1');
    const a2 = join(dir, 'a2');
    await mkdir(a1, { recursive: true });
    await mkdir(join(a2, 'evil'), { recursive: true });
    execFileSync('ln', ['-s', outside, join(a1, 'evil')]);
    await writeFile(join(a2, 'evil', 'owned'), 'pwned\n');
    execFileSync('tar', ['-cf', join(files, 'plant.tar'), '-C', a1, 'evil']);
    execFileSync('tar', ['-cf', join(files, 'follow.tar'), '-C', a2, 'evil/owned']);
    const box = await sandbox();
    const r = await fetchUris([{ value: `${base}/plant.tar` }, { value: `${base}/follow.tar` }], opts(box));
    assert.deepEqual(await import('node:fs/promises').then((f) => f.readdir(outside)), [], 'nothing written outside');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(await readFile(join(box, 'evil', 'owned'), 'utf8'), 'pwned\n', 'the second archive replaced the link with a directory');

    const box2 = await sandbox();
    const r2 = await fetchUris([{ value: `${base}/plant.tar` }, { value: `${base}/hello.txt`, outputFile: 'evil/x' }], opts(box2));
    assert.equal(r2.ok, false);
    if (!r2.ok) assert.match(r2.reason, /evil in the sandbox is a symlink; the fetcher does not write through links/);
    assert.deepEqual(await import('node:fs/promises').then((f) => f.readdir(outside)), [], 'nothing written outside');
  });
});
