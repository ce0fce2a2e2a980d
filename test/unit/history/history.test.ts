import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CycleStatus } from '../../../src/core/contracts/status';
import { appendHistory, readHistory, repairHistory, GENESIS } from '../../../src/core/history/history';

describe('history.jsonl hash chain', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-hist-'));
    file = path.join(dir, 'logs', 'autopilot', 'history.jsonl');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rec = (n: number, status: CycleStatus = 'FAIL') => ({ runId: `r${n}`, ticketId: 'T-1', status, endedAt: `2026-11-25T10:0${n}:00Z`, costUsd: 0.1 * n });

  it('chains each line to the one before and reads back clean', async () => {
    const a = await appendHistory(file, rec(1));
    const b = await appendHistory(file, rec(2, 'PASS'));
    assert.equal(a.prev_hash, GENESIS);
    assert.equal(b.prev_hash, a.hash);
    const r = readHistory(file);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.records.map((x) => x.runId), ['r1', 'r2']);
    assert.equal(r.head, b.hash);
  });

  it('SEC-28 a truncated last line is repaired; appending after it chains to the last good line', async () => {
    await appendHistory(file, rec(1));
    const good = fs.readFileSync(file, 'utf8');
    fs.appendFileSync(file, '{"runId":"r2","ticketId":"T-1","sta');
    assert.deepEqual(readHistory(file).problems.map((p) => p.kind), ['truncated']);
    assert.equal(await repairHistory(file), true);
    assert.equal(fs.readFileSync(file, 'utf8'), good);
    fs.appendFileSync(file, '{"half');
    await appendHistory(file, rec(3));
    const r = readHistory(file);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.records.map((x) => x.runId), ['r1', 'r3']);
  });

  it('SEC-28 an edited earlier line is detected (tampered), and a deleted line breaks the chain', async () => {
    for (let i = 1; i <= 3; i++) await appendHistory(file, rec(i));
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    fs.writeFileSync(file, [lines[0].replace('"FAIL"', '"PASS"'), ...lines.slice(1)].join('\n'));
    assert.deepEqual(readHistory(file).problems.map((p) => [p.line, p.kind]), [[1, 'tampered']]);
    fs.writeFileSync(file, [lines[0], lines[2], ''].join('\n'));
    assert.deepEqual(readHistory(file).problems.map((p) => [p.line, p.kind]), [[2, 'broken-chain']]);
    assert.equal(await repairHistory(file), false, 'only a truncated tail is repaired automatically');
  });

  it('hashes do not depend on key order', async () => {
    const a = await appendHistory(file, { status: 'PASS', ticketId: 'T', runId: 'x', extra: { b: 1, a: 2 } });
    const line = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(line).reverse());
    fs.writeFileSync(file, JSON.stringify(reordered) + '\n');
    assert.deepEqual(readHistory(file).problems, []);
    assert.equal(readHistory(file).head, a.hash);
  });
});
