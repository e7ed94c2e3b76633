/**
 * The master's registry over a real embedded store: a malformed record is
 * skipped with one warning naming its key (it once made every elected master
 * step down, ~1,200 times a second), and ids are encoded into keys so that
 * one id can never be read back as another (issue 8, items 10 and 12).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedStore } from '../../lib/store-embedded';
import { Registry } from '../../master/registry';

const P = '/mezzanine/test/registry/';

function open(t: TestContext): EmbeddedStore {
  const d = mkdtempSync(path.join(tmpdir(), 'mezz-registry-'));
  const s = new EmbeddedStore(d);
  t.after(async () => {
    await s.close();
    rmSync(d, { recursive: true, force: true });
  });
  return s;
}

const info = (name: string) => ({ name, roles: ['*'], capabilities: [], failoverTimeout: 60 });

test('load skips each malformed record with one warning naming its key, and keeps the rest', async (t) => {
  const s = open(t);
  const good = { id: 'fw-good', info: info('good'), registeredAt: 1 };
  const seeded: [string, unknown, RegExp | undefined][] = [
    [`${P}frameworks/fw-good`, good, undefined],
    [`${P}frameworks/fw-noinfo`, { id: 'fw-noinfo', registeredAt: 1 }, /frameworks\/fw-noinfo" is malformed and was skipped: info is missing/],
    [`${P}frameworks/fw-badroles`, { id: 'fw-badroles', info: { name: 'x', roles: 'eng' }, registeredAt: 1 }, /info\.roles is not a list of strings/],
    [`${P}frameworks/fw-badcons`, { id: 'fw-badcons', info: { name: 'x', offerConstraints: { '*': { groups: [null] } } }, registeredAt: 1 }, /info\.offerConstraints is not role/],
    [`${P}frameworks/fw-other`, { ...good, id: 'fw-good' }, /the record's id "fw-good" is not the one in its key/],
    [`${P}frameworks/fw-null`, null, /fw-null" is malformed and was skipped: the value is not an object/],
    [`${P}frameworks/..`, { ...good, id: '..' }, /the id in its key "\.\." is invalid/],
    [`${P}frameworks/%E0%A4%A`, good, /URI malformed/],
    [`${P}agents/agent-good`, { id: 'agent-good', hostname: 'h', admittedAt: 2 }, undefined],
    [`${P}agents/agent-nohost`, { id: 'agent-nohost', admittedAt: 2 }, /hostname is not a string/],
    [`${P}removed-agents/agent-gone`, 3, undefined],
    [`${P}removed-agents/agent-when`, 'yesterday', /the removal time is not a number/],
    [`${P}removed-frameworks/fw-gone`, 4, undefined],
    [`${P}weights/eng%2Fml`, 2, undefined],
    [`${P}weights/dev`, -1, /weight -1 is not a positive number/],
  ];
  for (const [key, value] of seeded) await s.put(key, value);
  const warnings: string[] = [];
  const snap = await new Registry(s, 'test').load((m) => warnings.push(m));
  assert.deepEqual(snap.frameworks, [good]);
  assert.deepEqual(snap.agents, [{ id: 'agent-good', hostname: 'h', admittedAt: 2 }]);
  assert.deepEqual([...snap.removedAgents], ['agent-gone']);
  assert.deepEqual([...snap.removedFrameworks], ['fw-gone']);
  assert.deepEqual([...snap.weights], [['eng/ml', 2]]);
  const expected = seeded.filter(([, , want]) => want);
  assert.equal(warnings.length, expected.length, warnings.join('\n'));
  for (const [, , want] of expected) assert.ok(warnings.some((w) => want!.test(w)), `no warning matches ${want}:\n${warnings.join('\n')}`);
});

test('a framework with a missing list reads it as empty rather than being skipped', async (t) => {
  const s = open(t);
  await s.put(`${P}frameworks/fw-1`, { id: 'fw-1', info: { name: 'old' }, registeredAt: 1 });
  const warnings: string[] = [];
  const snap = await new Registry(s, 'test').load((m) => warnings.push(m));
  assert.deepEqual(snap.frameworks.map((f) => [f.id, f.info.roles, f.info.capabilities]), [['fw-1', [], []]]);
  assert.deepEqual(warnings, []);
});

test('ids are encoded into keys: "x/<victim>" neither blocks nor removes the victim', async (t) => {
  const s = open(t);
  const r = new Registry(s, 'test');
  await r.putFramework({ id: 'victim', info: info('victim') as never, registeredAt: 1 });
  await r.admitAgent({ id: 'agent-1', hostname: 'h', admittedAt: 1 });
  await r.removeFramework('x/victim', 5);
  await r.removeAgent('x/agent-1', 5);
  assert.deepEqual((await s.list(`${P}removed-frameworks/`)).map((kv) => kv.key), [`${P}removed-frameworks/x%2Fvictim`]);
  const warnings: string[] = [];
  const snap = await r.load((m) => warnings.push(m));
  assert.deepEqual(snap.frameworks.map((f) => f.id), ['victim']);
  assert.ok(!snap.removedFrameworks.has('victim'), 'the victim is not removed');
  assert.deepEqual(snap.agents.map((a) => a.id), ['agent-1']);
  assert.ok(!snap.removedAgents.has('agent-1'));
  // The bad ids themselves are not valid ids: skipped with a warning, never taken for another.
  assert.equal(warnings.length, 2);
  assert.ok(warnings.every((w) => /the id in its key "x\/(victim|agent-1)" is invalid/.test(w)), warnings.join('\n'));
});

test('ids with : and @ are encoded, and records older versions wrote raw are still read and removed', async (t) => {
  const s = open(t);
  await s.put(`${P}agents/agent:old@h`, { id: 'agent:old@h', hostname: 'h', admittedAt: 1 }); // written before keys were encoded
  const r = new Registry(s, 'test');
  assert.deepEqual((await r.load(() => assert.fail('no warning'))).agents.map((a) => a.id), ['agent:old@h']);
  await r.removeAgent('agent:old@h', 7);
  const snap = await r.load(() => assert.fail('no warning'));
  assert.deepEqual(snap.agents, []);
  assert.deepEqual([...snap.removedAgents], ['agent:old@h']);
  assert.deepEqual((await s.list(`${P}removed-agents/`)).map((kv) => kv.key), [`${P}removed-agents/agent%3Aold%40h`]);
});
