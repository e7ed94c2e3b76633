/**
 * Which user a task runs as (agent/users.ts): name checks, passwd parsing,
 * the choice between command.user, the framework's user and the default,
 * what an agent that does not switch users refuses, the flags' defaults,
 * and the setpriv command line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentProgram, type Flags } from '../../agent/flags';
import {
  asUser, cachedLookup, chooseTaskUser, defaultUserPolicy, lookupUser, parsePasswdLine, userNameProblem, type TaskUser, type UserPolicy,
} from '../../agent/users';

const daemon: TaskUser = { name: 'daemon', uid: 1, gid: 1, home: '/usr/sbin' };
const nobody: TaskUser = { name: 'nobody', uid: 65534, gid: 65534, home: '/nonexistent' };
const root: TaskUser = { name: 'root', uid: 0, gid: 0, home: '/root' };
const alice: TaskUser = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' };
const passwd = new Map([daemon, nobody, root, alice].map((u) => [u.name, u]));
const fakeLookup = (name: string) => Promise.resolve(passwd.get(name));

describe('userNameProblem', () => {
  const cases: { name: string; input: string; want: RegExp | undefined }[] = [
    { name: 'a plain name', input: 'daemon', want: undefined },
    { name: 'dots, dashes, underscores and a final $', input: 'svc_web.1-a$', want: undefined },
    { name: 'empty', input: '', want: /empty/ },
    { name: 'a leading dash (an option to getent)', input: '-s', want: /not a valid user name/ },
    { name: 'a slash', input: 'a/b', want: /not a valid user name/ },
    { name: 'all digits (a uid: "0" must not become root)', input: '0', want: /all digits: name the user, not its uid/ },
    // 33 characters, over the 32 Linux allows; the value is not echoed whole.
    { name: 'too long', input: 'x'.repeat(33), want: /is 33 characters long; at most 32 are allowed/ },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = userNameProblem(c.input);
      if (c.want) assert.match(got ?? '', c.want);
      else assert.equal(got, undefined);
    });
  }
});

describe('parsePasswdLine', () => {
  const cases = [
    { name: 'a full entry', input: 'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin', want: daemon },
    { name: 'no home: /', input: 'x:x:5:6:::/bin/sh', want: { name: 'x', uid: 5, gid: 6, home: '/' } },
    { name: 'a comment or short line', input: '# daemon:x:1', want: undefined },
    { name: 'a non-numeric uid', input: 'a:x:one:1::/:/bin/sh', want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parsePasswdLine(c.input), c.want));
});

describe('lookupUser (the host\'s passwd database)', () => {
  it('finds daemon (uid 1 on Debian) and not a made-up user', async () => {
    const d = await lookupUser('daemon');
    assert.equal(d?.uid, 1);
    assert.equal(await lookupUser('mezz-no-such-user'), undefined);
  });
});

describe('chooseTaskUser', () => {
  const switching: UserPolicy = { switchUser: true, defaultUser: 'nobody' };
  const cases: { name: string; policy: UserPolicy; command?: string; framework?: string; self?: TaskUser; want: { user?: TaskUser; switchUser?: boolean; reason?: RegExp } }[] = [
    { name: 'no user anywhere: the default', policy: switching, want: { user: nobody, switchUser: true } },
    { name: 'the framework\'s user over the default', policy: switching, framework: 'alice', want: { user: alice, switchUser: true } },
    { name: 'command.user over the framework\'s', policy: switching, command: 'daemon', framework: 'alice', want: { user: daemon, switchUser: true } },
    { name: 'root when asked for (the master\'s ACL decides whether it may)', policy: switching, command: 'root', want: { user: root, switchUser: true } },
    { name: 'an unknown user', policy: switching, command: 'ghost', want: { reason: /^user "ghost" \(the task's command.user\) does not exist on this agent/ } },
    { name: 'a uid instead of a name', policy: switching, command: '0', want: { reason: /cannot run the task as the task's command.user: "0" is all digits/ } },
    {
      name: 'not root: its own user, without a lookup', policy: { switchUser: false, defaultUser: 'alice' }, self: alice, framework: 'alice',
      want: { user: alice, switchUser: false },
    },
    {
      name: 'not root: another user fails, saying why', policy: { switchUser: false, defaultUser: 'alice' }, self: alice, command: 'daemon',
      want: { reason: /^cannot run the task as user "daemon" \(the task's command.user\): the agent is not root, so it runs tasks only as its own user "alice"$/ },
    },
    {
      name: 'root with --no-switch-user: another user fails', policy: { switchUser: false, defaultUser: 'root' }, self: root, framework: 'alice',
      want: { reason: /user "alice" \(its framework's user\): the agent runs with --no-switch-user/ },
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const got = await chooseTaskUser(c.policy, c.command, c.framework, fakeLookup, c.self ?? root);
      if (c.want.reason) {
        assert.equal(got.ok, false);
        if (!got.ok) assert.match(got.reason, c.want.reason);
      } else {
        assert.deepEqual(got, { ok: true, user: c.want.user, switchUser: c.want.switchUser });
      }
    });
  }

  it('a lookup that fails says so', async () => {
    const got = await chooseTaskUser(switching, 'daemon', '', () => Promise.reject(new Error('getent timed out')), root);
    assert.deepEqual(got, { ok: false, reason: 'cannot look up user "daemon" (the task\'s command.user): getent timed out' });
  });
});

describe('cachedLookup', () => {
  it('asks once per user within the ttl, again after it, and again after a failure', async () => {
    let calls = 0;
    let fail = false;
    let t = 0;
    const lookup = cachedLookup((name) => { calls++; return fail ? Promise.reject(new Error('down')) : fakeLookup(name); }, 1000, () => t);
    await lookup('daemon');
    await lookup('daemon');
    assert.equal(calls, 1);
    t = 1000; // the ttl has passed
    fail = true;
    await assert.rejects(lookup('daemon'));
    fail = false;
    assert.deepEqual(await lookup('daemon'), daemon);
    assert.equal(calls, 3);
  });
});

describe('user flags and defaults', () => {
  it('root: switch to nobody; anyone else: no switching, its own user', () => {
    assert.deepEqual(defaultUserPolicy(0, 'root'), { switchUser: true, defaultUser: 'nobody' });
    assert.deepEqual(defaultUserPolicy(1000, 'alice'), { switchUser: false, defaultUser: 'alice' });
  });

  const parse = (argv: string[], users = { switchUser: true, defaultUser: 'nobody' }) => {
    const p = agentProgram(users);
    p.parse(['node', 'mezz-agent', ...argv]);
    return p.opts<Flags>();
  };
  const cases: { name: string; argv: string[]; users?: UserPolicy; want: Pick<Flags, 'switchUser' | 'defaultUser'> }[] = [
    { name: 'root, no flags', argv: [], want: { switchUser: true, defaultUser: 'nobody' } },
    { name: 'not root, no flags', argv: [], users: { switchUser: false, defaultUser: 'alice' }, want: { switchUser: false, defaultUser: 'alice' } },
    { name: '--no-switch-user', argv: ['--no-switch-user'], want: { switchUser: false, defaultUser: 'nobody' } },
    { name: '--default-user daemon', argv: ['--default-user', 'daemon'], want: { switchUser: true, defaultUser: 'daemon' } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = parse(c.argv, c.users);
      assert.deepEqual({ switchUser: f.switchUser, defaultUser: f.defaultUser }, c.want);
    });
  }

  it('--default-user refuses a uid, naming the flag', () => {
    const p = agentProgram({ switchUser: true, defaultUser: 'nobody' });
    let out = '';
    p.configureOutput({ writeErr: (s) => { out += s; }, outputError: (s, write) => write(s) });
    assert.throws(() => p.parse(['node', 'mezz-agent', '--default-user', '0']));
    assert.match(out, /--default-user <name>.*"0" is all digits/);
  });
});

describe('asUser', () => {
  it('prefixes setpriv with the ids and the user\'s groups; leaves argv alone without a user', () => {
    assert.deepEqual(asUser({ uid: 1, gid: 1 }, ['/bin/sh', '-c', 'id']), ['setpriv', '--reuid=1', '--regid=1', '--init-groups', '--', '/bin/sh', '-c', 'id']);
    assert.deepEqual(asUser(undefined, ['/bin/sh', '-c', 'id']), ['/bin/sh', '-c', 'id']);
  });
});
