import * as assert from 'node:assert/strict';
import { baselineRedError } from '../../../src/core/cycle/baseline';
import { worktreeDirtyError } from '../../../src/core/cycle/clean-start';
import { FactoryError } from '../../../src/core/util/errors';
import { startRefusalOffer } from '../../../src/extension/cycle/start-refusal';

describe('extension: what a refused cycle start offers (spec §8-3)', () => {
  it('a dirty work tree (any of its three codes) offers "Show changes", which opens the Source Control view', () => {
    const dirty = [worktreeDirtyError(['notes/todo.txt']), new FactoryError('the SSOT documents have uncommitted changes', 'ssot-dirty'), new FactoryError('paths in scope.modify have uncommitted changes', 'scope-dirty')];
    for (const err of dirty) assert.deepEqual(startRefusalOffer(err), { action: 'Show changes', command: 'workbench.view.scm' }, err.code);
  });

  it('a red baseline offers "Run anyway": the same run again with acceptRedBaseline', () => {
    const err = baselineRedError({ commit: 'a'.repeat(40), tree: 'b'.repeat(40), status: 'red', failing: [{ kind: 'gate', name: 'fast', failed: 2 }, { kind: 'docops', name: 'SSOT Docs' }], accepted: false, cached: false, durationMs: 10 });
    assert.equal(err.code, 'baseline-red');
    assert.equal(err.exitCode, 1);
    assert.equal(err.message, 'baseline red: fast (gate, 2 failed), SSOT Docs (docops) failing on HEAD aaaaaaa before any change; fix HEAD or pass --accept-red-baseline');
    assert.deepEqual(startRefusalOffer(err), { action: 'Run anyway', rerun: { acceptRedBaseline: true } });
  });

  it('any other failure offers nothing beyond the log', () => {
    for (const err of [new FactoryError('x', 'locked'), new FactoryError('x', 'worker-error'), new Error('bug'), 'text']) assert.equal(startRefusalOffer(err), undefined);
  });
});
