import { strict as assert } from 'node:assert';
import { indexFiles } from '../../../src/core/plan/scope/file-index';
import { parsePlanDoc, planDocPaths, sectionOf } from '../../../src/core/plan/scope/plan-docs';

describe('scope derivation: plan documents', () => {
  it('finds the AC and ticket plan documents the repository keeps (`::` spelled as a file name can be)', () => {
    const index = indexFiles(['docs/plan/D201__AC-1.md', 'docs/plans/D201-AC-2.md', 'docs/plan/D201.md', 'docs/plan/D202.md', 'docs/plan/D201/AC-3.md']);
    assert.deepEqual(planDocPaths(index, 'D201', ['D201::AC-1', 'D201::AC-2', 'D201::AC-3']), [
      'docs/plan/D201__AC-1.md',
      'docs/plans/D201-AC-2.md',
      'docs/plan/D201/AC-3.md',
      'docs/plan/D201.md',
    ]);
  });

  it('classifies English and Korean headings; read-only before forbidden before modify', () => {
    assert.equal(sectionOf('Modify'), 'modify');
    assert.equal(sectionOf('Files to change'), 'modify');
    assert.equal(sectionOf('Read-only'), 'readonly');
    assert.equal(sectionOf('Do not modify'), 'forbidden');
    assert.equal(sectionOf('Changes not allowed'), 'forbidden');
    assert.equal(sectionOf('수정'), 'modify');
    assert.equal(sectionOf('읽기 전용 (수정 금지)'), 'readonly');
    assert.equal(sectionOf('수정 금지'), 'forbidden');
    assert.equal(sectionOf('배경'), undefined);
  });

  it('reads the lists under each heading, backticked or bare, and ignores prose, other sections and unsafe paths', () => {
    const text = [
      '# D201::AC-1 계획',
      '배경: 수수료 모델을 바꾼다. This AC changes the fee model.',
      '- not/in/a/section.py',
      '## 수정',
      '- `arbitrage/engine/fees.py` — maker 리베이트',
      '* tests/test_fees.py',
      '1. arbitrage/engine/new_module.py (new)',
      '**Read-only:**',
      '- [ ] `arbitrage/domain/**`',
      '- ../outside.py',
      'Forbidden:',
      '- `arbitrage/engine/pricing.py`',
      '## Notes',
      '- docs/whatever.md',
    ].join('\n');
    const reason = 'plan document docs/plan/D201__AC-1.md';
    assert.deepEqual(parsePlanDoc('docs/plan/D201__AC-1.md', text), {
      candidates: [
        { path: 'arbitrage/engine/fees.py', cls: 'modify', reason, source: 'plan-doc' },
        { path: 'tests/test_fees.py', cls: 'modify', reason, source: 'plan-doc' },
        { path: 'arbitrage/engine/new_module.py', cls: 'modify', reason, source: 'plan-doc' },
        { path: 'arbitrage/domain/**', cls: 'readonly', reason, source: 'plan-doc' },
      ],
      forbidden: [{ path: 'arbitrage/engine/pricing.py', reason }],
    });
  });
});
