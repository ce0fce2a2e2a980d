import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findDeletedAcs } from '../../../src/core/ssot/invariants';
import { configSchema } from '../../../src/core/config/schema';
import { indexDocuments, indexWorkspace } from '../../../src/core/ssot/workspace';

const HEADER = ['| AC_ID | TITLE | STATUS | CANONICAL_EVIDENCE |', '|---|---|---|---|'];

function ledger(...rows: string[]): string {
  return ['queue_policy: SEQUENTIAL_QUEUE', ...HEADER, ...rows, ''].join('\n');
}

function codes(docs: Parameters<typeof indexDocuments>[0]): string[] {
  return indexDocuments(docs).diagnostics.map((d) => `${d.file}:${d.line} ${d.severity} ${d.code}`);
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd, stdio: 'pipe' });
}

describe('SSOT invariants', () => {
  it('a duplicate AC id in the ledger is an error at its second row', () => {
    const text = ledger('| A::AC-1 | a | OPEN | NONE |', '| A::AC-2 | b | OPEN | NONE |', '| A::AC-1 | again | OPEN | NONE |');
    assert.deepEqual(codes({ ledger: { file: 'L.md', text } }), ['L.md:6 error ssot.duplicate-ac']);
  });

  it('DONE without evidence (empty, NONE, —) is an error; DONE with evidence is fine', () => {
    const text = ledger(
      '| A::AC-1 | a | DONE | logs/evidence/x/ |',
      '| A::AC-2 | b | DONE | NONE |',
      '| A::AC-3 | c | DONE | — |',
      '| A::AC-4 | d | DONE |  |',
      '| A::AC-5 | e | OPEN | NONE |',
    );
    assert.deepEqual(codes({ ledger: { file: 'L.md', text } }), [
      'L.md:5 error ssot.done-without-evidence',
      'L.md:6 error ssot.done-without-evidence',
      'L.md:7 error ssot.done-without-evidence',
    ]);
  });

  it("the roadmap's DONE/TOTAL must match the ledger's rows for the ticket", () => {
    const roadmap = {
      file: 'R.md',
      text: [
        '### Phase 1: x',
        '| Step | Goal | DONE/TOTAL | Status |',
        '|---|---|---|---|',
        '| A | in sync | 1/2 | PARTIAL |',
        '| B | total differs | 0/3 | OPEN |',
        '| C | done differs | 1/1 | DONE |',
        '| D | no ledger rows | 0/2 | OPEN |',
      ].join('\n'),
    };
    const text = ledger(
      '| A::AC-1 | a | DONE | ev |',
      '| A::AC-2 | a | OPEN | NONE |',
      '| B::AC-1 | b | OPEN | NONE |',
      '| C::AC-1 | c | OPEN | NONE |',
    );
    const index = indexDocuments({ roadmap, ledger: { file: 'L.md', text } });
    assert.deepEqual(
      index.diagnostics.map((d) => `${d.line} ${d.code} ${d.message}`),
      [
        '5 ssot.progress-mismatch B is 0/3 in the roadmap but the ledger has 0 DONE of 1 rows',
        '6 ssot.progress-mismatch C is 1/1 in the roadmap but the ledger has 0 DONE of 1 rows',
        '7 ssot.progress-mismatch D is 0/2 in the roadmap but the ledger has 0 DONE of 0 rows',
      ],
    );
    // Without a ledger there is nothing to compare with.
    assert.deepEqual(indexDocuments({ roadmap }).diagnostics, []);
  });

  it('an unknown status word is reported once, from the parser', () => {
    assert.deepEqual(codes({ ledger: { file: 'L.md', text: ledger('| A::AC-1 | a | SOON | NONE |') } }), ['L.md:4 warning ssot.unknown-status']);
  });

  describe('deleted ACs compared with git HEAD (real git)', () => {
    let repo: string;
    const rel = 'docs/v2/design/AC_LEDGER.md';
    const original = ledger('| A::AC-1 | a | DONE | ev |', '| A::AC-2 | b | OPEN | NONE |', '| B::AC-1 | c | OPEN | NONE |');

    beforeEach(() => {
      repo = fs.mkdtempSync(path.join(os.tmpdir(), 'ssot-git-'));
      fs.mkdirSync(path.join(repo, 'docs/v2/design'), { recursive: true });
      fs.writeFileSync(path.join(repo, rel), original);
      git(repo, 'init', '-q');
      git(repo, 'add', '.');
      git(repo, 'commit', '-q', '-m', 'ledger');
    });
    afterEach(() => fs.rmSync(repo, { recursive: true, force: true }));

    it('SEC-30 an AC row deleted from the ledger (vs git HEAD) is reported as an error', async () => {
      fs.writeFileSync(path.join(repo, rel), ledger('| A::AC-1 | a | DONE | ev |', '| B::AC-1 | c | OPEN | NONE |'));
      const found = await findDeletedAcs(repo, rel);
      assert.equal(found.length, 1);
      assert.equal(found[0]?.code, 'ssot.deleted-ac');
      assert.equal(found[0]?.severity, 'error');
      assert.equal(found[0]?.file, rel);
      assert.match(found[0]?.message ?? '', /^A::AC-2 \(line 5 at HEAD\) was deleted/);
    });

    it('SEC-30 indexWorkspace reports a deleted AC among its diagnostics (and can be told not to)', async () => {
      fs.writeFileSync(path.join(repo, rel), ledger('| A::AC-1 | a | DONE | ev |', '| A::AC-2 | b | OPEN | NONE |'));
      const index = await indexWorkspace(repo, configSchema.parse({}));
      assert.deepEqual(
        index.diagnostics.map((d) => [d.file, d.code, d.message.split(' ')[0]]),
        [[rel, 'ssot.deleted-ac', 'B::AC-1']],
      );
      assert.deepEqual((await indexWorkspace(repo, configSchema.parse({}), { git: false })).diagnostics, []);
    });

    it('SEC-30 editing, reordering and adding rows is not a deletion; an unsaved buffer is checked too', async () => {
      fs.writeFileSync(
        path.join(repo, rel),
        ledger('| B::AC-1 | c | DONE | ev2 |', '| A::AC-1 | a (edited) | DONE | ev |', '| A::AC-2 | b | OPEN | NONE |', '| A::AC-3 | new | OPEN | NONE |'),
      );
      assert.deepEqual(await findDeletedAcs(repo, rel), []);
      const buffer = ledger('| A::AC-1 | a | DONE | ev |');
      const found = await findDeletedAcs(repo, rel, { currentText: buffer });
      assert.deepEqual(found.map((d) => d.message.split(' ')[0]), ['A::AC-2', 'B::AC-1']);
    });

    it('SEC-30 works from a subfolder root and is silent outside git or before the first commit', async () => {
      // The workspace root is a subfolder of the repository: HEAD:./path is relative to it.
      const sub = path.join(repo, 'docs');
      fs.writeFileSync(path.join(repo, rel), ledger());
      assert.equal((await findDeletedAcs(sub, 'v2/design/AC_LEDGER.md')).length, 3);

      const plain = fs.mkdtempSync(path.join(os.tmpdir(), 'ssot-nogit-'));
      try {
        fs.mkdirSync(path.join(plain, 'docs/v2/design'), { recursive: true });
        fs.writeFileSync(path.join(plain, rel), ledger());
        assert.deepEqual(await findDeletedAcs(plain, rel), []);
        git(plain, 'init', '-q');
        assert.deepEqual(await findDeletedAcs(plain, rel), []);
      } finally {
        fs.rmSync(plain, { recursive: true, force: true });
      }
    });

    it('SEC-30 stops when aborted', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(findDeletedAcs(repo, rel, { signal: ac.signal }));
    });
  });
});
