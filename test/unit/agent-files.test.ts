import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SandboxEscapeError, SandboxFileNotFoundError, SandboxPathError } from '../../agent/errors';
import { filesHandlers } from '../../agent/files-service';
import { DEFAULT_READ_LENGTH, MAX_READ_LENGTH, readSandboxFile, Sandboxes } from '../../agent/sandbox';
import { bindServer } from '../../lib/grpc';
import { mezzProto, type AgentFilesClient, type ReadFileRequest, type ReadFileResponse__Output } from '../../lib/proto';
import { tempDir } from '../fixtures/agent-harness';

let workDir: string;
let sandbox: string;
let server: grpc.Server;
let client: AgentFilesClient;

before(async () => {
  workDir = await tempDir();
  const sandboxes = new Sandboxes(workDir);
  sandbox = await sandboxes.create('fw-1', 'web');
  await writeFile(join(sandbox, 'stdout'), 'hello world\n');
  await writeFile(join(sandbox, 'big'), Buffer.alloc(2 * MAX_READ_LENGTH, 'x'));
  await mkdir(join(sandbox, 'logs'));
  await writeFile(join(sandbox, 'logs', 'app.log'), 'inside\n');
  await symlink('/etc/passwd', join(sandbox, 'passwd'));
  await symlink('/etc', join(sandbox, 'etc'));
  await symlink('logs/app.log', join(sandbox, 'app.log'));

  server = new grpc.Server();
  // The files service looks sandboxes up on disk, as the agent does for tasks it no longer tracks.
  server.addService(mezzProto().AgentFiles.service, filesHandlers({
    agentId: 'agent-7',
    findSandbox: (taskId, frameworkId) => sandboxes.find(taskId, frameworkId),
  }));
  const port = await bindServer(server, '127.0.0.1', 0);
  client = new (mezzProto().AgentFiles)(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as AgentFilesClient;
});
after(async () => {
  client?.close();
  server?.forceShutdown();
  await rm(workDir, { recursive: true, force: true });
});

function readFile(req: ReadFileRequest): Promise<ReadFileResponse__Output> {
  return new Promise((resolve, reject) => client.ReadFile(req, (err, res) => (err ? reject(err) : resolve(res!))));
}

describe('readSandboxFile', () => {
  it('reads with offsets and reports the size', async () => {
    const all = await readSandboxFile(sandbox, 'stdout');
    assert.equal(all.data.toString(), 'hello world\n');
    assert.equal(all.size, 12);
    const mid = await readSandboxFile(sandbox, 'stdout', 6, 5);
    assert.deepEqual([mid.data.toString(), mid.offset, mid.size], ['world', 6, 12]);
    const past = await readSandboxFile(sandbox, 'stdout', 100, 0);
    assert.deepEqual([past.data.length, past.offset, past.size], [0, 100, 12]);
  });

  it('reads 64 KiB by default and 1 MiB at most', async () => {
    assert.equal((await readSandboxFile(sandbox, 'big')).data.length, DEFAULT_READ_LENGTH);
    assert.equal((await readSandboxFile(sandbox, 'big', 0, 10 * MAX_READ_LENGTH)).data.length, MAX_READ_LENGTH);
  });

  it('follows symlinks that stay inside the sandbox', async () => {
    assert.equal((await readSandboxFile(sandbox, 'app.log')).data.toString(), 'inside\n');
    assert.equal((await readSandboxFile(sandbox, './logs/app.log')).data.toString(), 'inside\n');
  });

  const rejected = [
    { name: '..', path: '../x', want: /leaves the sandbox/, error: SandboxEscapeError },
    { name: '.. in the middle', path: 'logs/../../x', want: /leaves the sandbox/, error: SandboxEscapeError },
    { name: 'an absolute path', path: '/etc/passwd', want: /is absolute/, error: SandboxEscapeError },
    { name: 'a symlink to /etc/passwd', path: 'passwd', want: /resolves outside/, error: SandboxEscapeError },
    { name: 'a path through a symlinked directory', path: 'etc/hostname', want: /resolves outside/, error: SandboxEscapeError },
    { name: 'a directory', path: 'logs', want: /not a regular file/, error: SandboxPathError },
    { name: 'an empty path', path: '', want: /path is empty/, error: SandboxPathError },
  ];
  for (const c of rejected) {
    it(`rejects ${c.name} with ${c.error.name}`, () => assert.rejects(readSandboxFile(sandbox, c.path),
      (e: Error) => e instanceof c.error && c.want.test(e.message)));
  }

  it('says when a file does not exist', () => assert.rejects(readSandboxFile(sandbox, 'nope'),
    (e: Error) => e instanceof SandboxFileNotFoundError && /no file nope/.test(e.message)));
});

describe('AgentFiles.ReadFile', () => {
  it('reads a task\'s stdout at an offset', async () => {
    const res = await readFile({ taskId: 'web', path: 'stdout', offset: 6, length: 5 });
    assert.equal(res.data.toString(), 'world');
    assert.equal(Number(res.offset), 6);
    assert.equal(Number(res.size), 12);
  });

  const rejected = [
    { name: '../x', path: '../x' },
    { name: '/etc/passwd', path: '/etc/passwd' },
    { name: 'a symlink to /etc/passwd', path: 'passwd' },
  ];
  for (const c of rejected) {
    it(`answers PERMISSION_DENIED for ${c.name}`, () => assert.rejects(readFile({ taskId: 'web', path: c.path }),
      (e: grpc.ServiceError) => e.code === grpc.status.PERMISSION_DENIED && e.details.includes(c.path)));
  }

  it('answers INVALID_ARGUMENT for a path that names a directory', () => assert.rejects(readFile({ taskId: 'web', path: 'logs' }),
    (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /not a regular file/.test(e.details)));

  it('answers NOT_FOUND naming an unknown task', () => assert.rejects(readFile({ taskId: 'ghost', path: 'stdout' }),
    (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND && e.details === 'task ghost is not known on agent agent-7'));

  it('does not confuse a task with another whose id it prefixes', () => assert.rejects(readFile({ taskId: 'we', path: 'stdout' }),
    (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND));
});
