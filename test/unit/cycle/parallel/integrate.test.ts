import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Change } from '../../../../src/core/changeset/diff';
import type { Snapshot, SnapshotEntry } from '../../../../src/core/changeset/snapshot';
import { defaultConfig, type FactoryConfig } from '../../../../src/core/config/schema';
import type { CycleContext } from '../../../../src/core/cycle/cycle-context';
import { cyclePaths } from '../../../../src/core/cycle/cycle-paths';
import type { CycleEvent } from '../../../../src/core/cycle/cycle-types';
import { conflictingPaths, integrate, integratedTreeHash, movedPaths, type IntegrateInput } from '../../../../src/core/cycle/parallel/integrate';
import type { Plan } from '../../../../src/core/contracts/plan';
import { nullLogger } from '../../../../src/core/util/log';

const git = (repo: string, ...args: string[]) => execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=T', '-c', 'user.email=t@localhost', '-C', repo, ...args], { encoding: 'utf8' }).trim();

/**
 * The Gate of these repositories (host runner): red when a.txt says "new" (the changeset) while
 * b.txt says "strict" (a host commit), or when the file `red` exists (a HEAD that fails alone).
 */
const CHECK = 'if grep -q new a.txt && grep -q strict b.txt; then echo "1 failed"; exit 1; fi\nif [ -f red ]; then exit 1; fi\necho "1 passed"\n';

const RUN = '20261206_040000_t1_abcdef0';

interface Fixture {
  root: string;
  base: string;
  ctx: CycleContext;
  events: CycleEvent[];
  input: IntegrateInput;
  /** Stages run (not cached). */
  runs: () => number;
}

const made: string[] = [];

function entry(file: string): SnapshotEntry {
  const buf = fs.readFileSync(file);
  return { type: 'file', mode: 0o644, size: buf.length, hash: createHash('sha256').update(buf).digest('hex'), ino: 0 } as unknown as SnapshotEntry;
}

/** A repository (a.txt, b.txt, the ledger, check.sh), and a "staging copy" of its base with a.txt changed to "new". */
function fixture(): Fixture {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-integrate-'));
  made.push(tmp);
  const root = path.join(tmp, 'repo');
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'a.txt'), 'old\n');
  fs.writeFileSync(path.join(root, 'b.txt'), 'loose\n');
  fs.writeFileSync(path.join(root, 'check.sh'), CHECK);
  const config: FactoryConfig = defaultConfig();
  fs.mkdirSync(path.dirname(path.join(root, config.ssot.ledger)), { recursive: true });
  fs.writeFileSync(path.join(root, config.ssot.ledger), '# ledger\n');
  git(root, 'init', '-q');
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', 'base');
  const base = git(root, 'rev-parse', 'HEAD');
  // The cycle's staging copy: the base's files with the Worker's change.
  const workspace = path.join(tmp, 'staging', 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  fs.writeFileSync(path.join(workspace, 'a.txt'), 'new\n');
  const changes: Change[] = [{ path: 'a.txt', kind: 'modified', before: 'file', after: 'file' }];
  const after: Snapshot = new Map([['a.txt', entry(path.join(workspace, 'a.txt'))]]);
  let runs = 0;
  config.gate = { ...config.gate, runIn: 'host', stages: [{ name: 'check', command: ['sh', '-c', 'echo ran >&2; sh check.sh'], timeoutSeconds: 30 }] };
  config.guards = [];
  const events: CycleEvent[] = [];
  const log = { ...nullLogger, info: (m: string) => void (/gate: stage check: sh/.test(m) && runs++) };
  const ctx = { root, config, paths: cyclePaths(root, config), opts: { root }, log, signal: undefined, emit: (e: CycleEvent) => events.push(e), lap: () => undefined, state: { runId: RUN, baseCommit: base } } as unknown as CycleContext;
  const plan = { run_id: RUN, ticket_id: 'T1' } as unknown as Plan;
  const input: IntegrateInput = { plan, baseCommit: base, done: { staging: { workspace, source: root, baseCommit: base, dir: path.dirname(workspace) }, changes, after } };
  return { root, base, ctx, events, input, runs: () => runs };
}

function commitOnHost(root: string, files: Record<string, string | null>, message = 'host'): string {
  for (const [rel, text] of Object.entries(files)) {
    if (text === null) fs.rmSync(path.join(root, rel));
    else fs.writeFileSync(path.join(root, rel), text);
  }
  git(root, 'add', '-A');
  git(root, 'commit', '-q', '-m', message);
  return git(root, 'rev-parse', 'HEAD');
}

/** The host's state: HEAD, every tracked file's bytes, `git status` (the Controller's records — the gate cache — left out). */
function hostState(root: string): string {
  const h = createHash('sha256').update(git(root, 'rev-parse', 'HEAD'));
  for (const f of git(root, 'ls-files').split('\n')) h.update(f).update(fs.readFileSync(path.join(root, f)));
  return h.update(git(root, 'status', '--porcelain', '--untracked-files=all', '--', '.', ':!logs/autopilot')).digest('hex');
}

describe('merge queue integration onto the current HEAD (issue 18, item 3)', () => {
  after(() => {
    for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('conflictingPaths: the same path, a file that became a folder, a new folder over a file', () => {
    assert.deepEqual(conflictingPaths([{ path: 'a.txt' }, { path: 'b.txt' }], ['a.txt', 'c.txt']), ['a.txt']);
    assert.deepEqual(conflictingPaths([{ path: 'lib/x.py' }], ['lib']), ['lib/x.py']);
    assert.deepEqual(conflictingPaths([{ path: 'lib' }], ['lib/x.py']), ['lib']);
    assert.deepEqual(conflictingPaths([{ path: 'lib2/x.py' }, { path: 'li' }], ['lib/x.py', 'lib2']), ['lib2/x.py']);
    assert.deepEqual(conflictingPaths([{ path: 'a' }], []), []);
  });

  it('HEAD still the base: same-base, no Gate, no event', async () => {
    const f = fixture();
    const r = await integrate(f.ctx, f.input);
    assert.deepEqual(r, { kind: 'same-base' });
    assert.equal(f.runs(), 0);
    assert.deepEqual(f.events, []);
  });

  it('a changeset path changed on HEAD: requeue, not counted, nothing on the host changes; the SSOT documents never count', async () => {
    const f = fixture();
    const ssotOnly = commitOnHost(f.root, { [f.ctx.config.ssot.ledger]: '# ledger\n| x |\n' });
    assert.deepEqual(await movedPaths(f.ctx, f.base, ssotOnly), []);
    const head = commitOnHost(f.root, { 'a.txt': 'theirs\n' });
    const before = hostState(f.root);
    const r = await integrate(f.ctx, f.input);
    assert.equal(r.kind, 'requeue');
    if (r.kind !== 'requeue') return;
    assert.equal(r.countsAsRetry, false);
    assert.equal(r.head, head);
    assert.match(r.reason, /^conflict: a\.txt changed on HEAD [0-9a-f]{7}/);
    assert.equal(r.gate, undefined);
    assert.equal(f.runs(), 0, 'no Gate on a conflict');
    assert.equal(hostState(f.root), before);
    assert.deepEqual(f.events.map((e) => (e.type === 'merge' ? e.step : e.type)), ['integrating']);
  });

  it('HEAD moved elsewhere: the Gate runs on HEAD + changeset (its own tree hash), PASS integrated; a repeat is a cache hit', async () => {
    const f = fixture();
    const head = commitOnHost(f.root, { 'c.txt': 'other\n' });
    const before = hostState(f.root);
    const r = await integrate(f.ctx, f.input);
    assert.equal(r.kind, 'integrated', JSON.stringify(r));
    if (r.kind !== 'integrated') return;
    assert.equal(r.head, head);
    assert.equal(r.gate.status, 'PASS');
    assert.equal(r.gate.treeHash, integratedTreeHash(f.input, head));
    assert.notEqual(r.gate.treeHash, integratedTreeHash(f.input, f.base), 'not the cycle\'s own tree');
    assert.equal(f.runs(), 1);
    assert.deepEqual(f.events.map((e) => (e.type === 'merge' ? `${e.step} ${e.head.slice(0, 7)}` : e.type)), [`integrating ${head.slice(0, 7)}`, `gate ${head.slice(0, 7)}`, 'output']);
    assert.match(f.events[2]?.type === 'output' ? f.events[2].text : '', new RegExp(`Tree: sha256:${r.gate.treeHash}`), 'the integrated Gate\'s log goes to the Run panel');
    assert.equal(hostState(f.root), before, 'integration writes nothing on the host');
    const again = await integrate(f.ctx, f.input);
    assert.equal(again.kind, 'integrated');
    assert.equal(again.kind === 'integrated' && again.gate.cache?.hit, true);
    assert.equal(f.runs(), 1, 'the repeat ran no step');
  });

  it('the Gate fails on HEAD + changeset while HEAD alone passes: requeue counted as a retry, with the failing step', async () => {
    const f = fixture();
    const head = commitOnHost(f.root, { 'b.txt': 'strict\n' });
    const before = hostState(f.root);
    const r = await integrate(f.ctx, f.input);
    assert.equal(r.kind, 'requeue', JSON.stringify(r));
    if (r.kind !== 'requeue') return;
    assert.equal(r.countsAsRetry, true);
    assert.equal(r.head, head);
    assert.equal(r.gate?.status, 'FAIL');
    assert.equal(r.gate?.failedAt, 'check');
    assert.match(r.reason, /Gate fails at check on HEAD [0-9a-f]{7} \+ the changeset while HEAD [0-9a-f]{7} alone passes/);
    assert.equal(f.runs(), 2, 'the integrated tree, then HEAD alone');
    assert.equal(hostState(f.root), before);
  });

  it('an integrated tree that cannot be built (the staging copy lost a changed file) is an error, never a requeue or a verdict', async () => {
    const f = fixture();
    commitOnHost(f.root, { 'c.txt': 'other\n' });
    fs.rmSync(path.join(f.input.done.staging.workspace, 'a.txt'));
    await assert.rejects(integrate(f.ctx, f.input), /ENOENT/);
    assert.equal(f.runs(), 0);
  });

  it('HEAD alone fails too: requeue not counted; a HEAD whose alone-Gate passed before is a cache hit', async () => {
    const f = fixture();
    commitOnHost(f.root, { 'b.txt': 'strict\n', red: 'x\n' });
    const r = await integrate(f.ctx, f.input);
    assert.equal(r.kind === 'requeue' && r.countsAsRetry, false);
    assert.match(r.kind === 'requeue' ? r.reason : '', /alone fails too \(at check\): not the change's fault/);
    assert.equal(f.runs(), 2);
    // Red removed again: HEAD alone passes and is cached; the integrated tree still fails (b.txt strict).
    commitOnHost(f.root, { red: null });
    const counted = await integrate(f.ctx, f.input);
    assert.equal(counted.kind === 'requeue' && counted.countsAsRetry, true);
    assert.equal(f.runs(), 4);
    await integrate(f.ctx, f.input);
    assert.equal(f.runs(), 5, 'HEAD alone came from the gate cache: only the integrated tree (a FAIL is never cached) ran again');
  });
});
