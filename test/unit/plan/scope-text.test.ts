import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { configSchema } from '../../../src/core/config/schema';
import { indexFiles } from '../../../src/core/plan/scope/file-index';
import { clauses, isTestName, namedClass, newFilePath, scopeTexts, textCandidates, textTokens } from '../../../src/core/plan/scope/text-sources';
import { indexWorkspace } from '../../../src/core/ssot/workspace';
import { CORPUS_DIR, requireCorpus } from '../../support/engines';
import { ac, PY_REPO, ticket } from './scope-fixtures';

const byPath = (cands: { path: string; reason: string; cls: string }[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const c of cands) (out[c.path] ??= []).push(`${c.cls}: ${c.reason}`);
  return out;
};

describe('scope derivation: the text source', () => {
  it('tokens stop at Korean particles and drop URLs and `path::function` suffixes', () => {
    assert.deepEqual(
      textTokens('engine_report.json에 redis_ok 포함, see https://x.io/a.py and `ops/factory/controller.py::parse_ledger_rows()`.'),
      ['engine_report.json', 'redis_ok', 'see', 'and', 'ops/factory/controller.py'],
    );
  });

  it('reads the ticket title and both rows of each AC (ledger and roadmap table), by AC id', () => {
    const ledger = ac('D201::AC-1', 'fee 모델', { notes: 'scripts/run_alpha_pipeline.py', evidence: 'NONE' });
    const table = ac('D201::AC-1', '수수료 모델 (roadmap row)', { evidence: 'tests/test_fees.py', origin: 'table' });
    const texts = scopeTexts(ticket('D201', 'Maker pivot', [table]), [ledger]);
    assert.deepEqual(texts.map((t) => t.ref), ['ticket D201', 'D201::AC-1']);
    assert.match(texts[1]?.text ?? '', /scripts\/run_alpha_pipeline\.py[\s\S]*roadmap row[\s\S]*tests\/test_fees\.py/);
  });

  it('resolves paths, unique file names, dotted modules, folders, config keys and test names in Korean text', () => {
    const index = indexFiles(PY_REPO);
    const t = ticket('D201', '수수료 엔진 정리');
    const acs = [
      ac('D201::AC-1', '`arbitrage.engine.fees.maker_fee()` 에 리베이트 반영 (fees.maker_bps 기준)'),
      ac('D201::AC-2', 'conftest.py 정리, justfile 갱신, arbitrage/domain 참조', { notes: 'test_round_trip_pnl 유지; docs/v2/V2_ARCHITECTURE.md 참고' }),
      ac('D201::AC-3', 'e.g. 1.1% 이하; scripts/run_alpha_pipeline.py 실행', { evidence: 'logs/evidence/d201_*/x.json' }),
    ];
    const lookup = {
      configText: (p: string) => (p === 'config/config.yaml' ? 'fees:\n  maker_bps: 2\n' : undefined),
      testsDefining: (name: string) => (name === 'test_round_trip_pnl' ? ['tests/test_fees.py', 'not/tracked.py'] : []),
    };
    const got = byPath(textCandidates(scopeTexts(t, acs), index, lookup));
    assert.deepEqual(got, {
      'arbitrage/engine/fees.py': ['modify: named in D201::AC-1 (module arbitrage.engine.fees)'],
      'config/config.yaml': ['readonly: named in D201::AC-1 (config key fees.maker_bps)'],
      'tests/conftest.py': ['modify: named in D201::AC-2'],
      justfile: ['modify: named in D201::AC-2'],
      'arbitrage/domain/**': ['modify: named in D201::AC-2 (folder)'],
      'tests/test_fees.py': ['modify: named in D201::AC-2 (test test_round_trip_pnl)'],
      'docs/v2/V2_ARCHITECTURE.md': ['readonly: named in D201::AC-2'],
      'scripts/run_alpha_pipeline.py': ['modify: named in D201::AC-3'],
    });
  });

  it('without look-ups, config keys and test names are skipped; ambiguous names too', () => {
    const index = indexFiles([...PY_REPO, 'a/util.py', 'b/util.py', 'c/util.py', 'd/util.py']);
    const got = textCandidates([{ ref: 'X::AC-1', text: 'fees.maker_bps test_round_trip_pnl util.py' }], index);
    assert.deepEqual(got, []);
    // An untracked file name is not a config key, even when a config file holds both words.
    const json = { configText: () => '{ "engine_report": { "format": "json" } }' };
    assert.deepEqual(textCandidates([{ ref: 'X::AC-1', text: 'engine_report.json에 redis_ok 포함' }], index, json), []);
    assert.ok(isTestName('test_round_trip_pnl') && isTestName('TestFees') && !isTestName('testing'));
    assert.equal(namedClass('README.md'), 'readonly');
    assert.equal(namedClass('pkg/x.py'), 'modify');
  });

  it('names files to create: in a clause with a create word, an untracked path in an existing folder is a new file to modify', () => {
    const index = indexFiles([...PY_REPO, 'pyproject.toml', 'docs/.vscode/settings.json']);
    const texts = [
      { ref: 'D202::AC-1', text: 'new module arbitrage/engine/slippage.py; add `tests/test_slippage.py`' },
      { ref: 'D202::AC-2', text: 'create scripts/replay.py\n신규 arbitrage/engine/slip_ko.py\n새 파일 arbitrage/domain/risk.py\nconfig/limits.yaml 추가' },
      { ref: 'D202::AC-3', text: 'add ruff.toml and setup.cfg' },
    ];
    assert.deepEqual(byPath(textCandidates(texts, index)), {
      'arbitrage/engine/slippage.py': ['modify: named in D202::AC-1 (new file)'],
      'tests/test_slippage.py': ['modify: named in D202::AC-1 (new file)'],
      'scripts/replay.py': ['modify: named in D202::AC-2 (new file)'],
      'arbitrage/engine/slip_ko.py': ['modify: named in D202::AC-2 (new file)'],
      'arbitrage/domain/risk.py': ['modify: named in D202::AC-2 (new file)'],
      'config/limits.yaml': ['modify: named in D202::AC-2 (new file)'],
      // A bare name is a top-level file, only beside top-level files of its kind (pyproject.toml).
      'ruff.toml': ['modify: named in D202::AC-3 (new file)'],
    });
    // No create word, no such folder, the path validator says no, or not a file name: nothing.
    const none = [
      { ref: 'X::AC-1', text: 'arbitrage/engine/slippage.py 참고' },
      { ref: 'X::AC-2', text: 'add nowhere/x.py and arbitrage/engine/deep/x.py, new module slippage, 추가 e.g. 1.1%' },
      { ref: 'X::AC-3', text: 'add docs/.vscode/tasks.json and engine_report.json' },
    ];
    assert.deepEqual(textCandidates(none, index), []);
    assert.equal(newFilePath('docs/.vscode/tasks.json', index), undefined);
    assert.equal(newFilePath('arbitrage/engine/fees.py', index), undefined, 'a tracked file is not new');
  });

  it('names files read-only: in a clause that says so, the files it names are readonly candidates', () => {
    const index = indexFiles(PY_REPO);
    const texts = [
      { ref: 'D202::AC-1', text: 'new module arbitrage/engine/slippage.py; arbitrage/engine/fees.py is readonly' },
      { ref: 'D202::AC-2', text: 'do not modify justfile\nscripts/run_alpha_pipeline.py must not change' },
      { ref: 'D202::AC-3', text: 'arbitrage.engine.pricing 읽기 전용, tests/conftest.py 수정 금지' },
      { ref: 'D202::AC-4', text: 'fix arbitrage/domain/pnl_calculator.py but config/config.yaml is read-only' },
    ];
    assert.deepEqual(byPath(textCandidates(texts, index)), {
      'arbitrage/engine/slippage.py': ['modify: named in D202::AC-1 (new file)'],
      'arbitrage/engine/fees.py': ['readonly: named read-only in D202::AC-1'],
      justfile: ['readonly: named read-only in D202::AC-2'],
      'scripts/run_alpha_pipeline.py': ['readonly: named read-only in D202::AC-2'],
      'arbitrage/engine/pricing.py': ['readonly: named read-only in D202::AC-3 (module arbitrage.engine.pricing)'],
      'tests/conftest.py': ['readonly: named read-only in D202::AC-3'],
      'arbitrage/domain/pnl_calculator.py': ['modify: named in D202::AC-4'],
      'config/config.yaml': ['readonly: named read-only in D202::AC-4'],
    });
    assert.ok(textCandidates(texts, index).filter((c) => c.cls === 'readonly').every((c) => c.explicit === true));
    assert.deepEqual(
      clauses('new engine/a.py; engine/b.py, engine/c.py are read-only').map((c) => [c.create, c.readonly]),
      [[true, false], [false, true]],
    );
  });

  it('on the real corpus (parsed in place): a ticket naming a script in its ledger and roadmap rows', async function () {
    requireCorpus(this);
    const config = configSchema.parse({ ssot: { extraRoadmaps: ['docs/v2/ROADMAP_V2.md'] } });
    const index = await indexWorkspace(CORPUS_DIR, config);
    // The corpus holds only the documents: the repository's files are what its rows name.
    // The work of a ticket as the planner picks it: the roadmap's ticket and its open ledger rows.
    const selectWork = (_: unknown, id: string) => ({
      ticket: index.tickets.find((t) => t.id === id),
      acs: index.ledger.filter((a) => a.ticketId === id && a.status === 'OPEN'),
    });
    const files = indexFiles(['scripts/cleanup_storage.py', 'tests/conftest.py', 'justfile', 'scripts/run_alpha_pipeline.py']);
    const slim3 = selectWork(index, 'D208-SLIM-3');
    const got = byPath(textCandidates(scopeTexts(slim3.ticket, slim3.acs), files));
    assert.deepEqual(got, {
      'scripts/cleanup_storage.py': ['modify: named in D208-SLIM-3::AC-1'],
      justfile: ['modify: named in D208-SLIM-3::AC-3'],
    });
    const slim2 = selectWork(index, 'D208-SLIM-2');
    assert.deepEqual(byPath(textCandidates(scopeTexts(slim2.ticket, slim2.acs), files)), { 'tests/conftest.py': ['modify: named in D208-SLIM-2::AC-2'] });
    const pipeline = selectWork(index, 'D_ALPHA-PIPELINE-0');
    assert.deepEqual(byPath(textCandidates(scopeTexts(pipeline.ticket, pipeline.acs), files)), {
      'scripts/run_alpha_pipeline.py': ['modify: named in D_ALPHA-PIPELINE-0::AC-1'],
    });
    assert.ok(path.isAbsolute(CORPUS_DIR));
  });
});
