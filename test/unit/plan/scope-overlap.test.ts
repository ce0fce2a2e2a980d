import { strict as assert } from 'node:assert';
import picomatch from 'picomatch';
import { literalPrefix, literalSuffix, overlapReason, patternsOverlap, scopeOverlap } from '../../../src/core/plan/scope-overlap';

const matchAll = (paths: string[], m: (p: string) => boolean): Set<string> => new Set(paths.filter((f) => m(f)));
const PM = { dot: true, nocase: false, nonegate: true, noextglob: true, strictSlashes: true };

describe('scope overlap (issue 18: which cycles may run together)', () => {
  it('literal prefixes and suffixes', () => {
    assert.equal(literalPrefix('engine/**/x.py'), 'engine/');
    assert.equal(literalPrefix('engine/fees.py'), 'engine/fees.py');
    assert.equal(literalPrefix('{a,b}/x'), '');
    assert.equal(literalSuffix('**/*.py'), '.py');
    assert.equal(literalSuffix('src/**'), '');
    assert.equal(literalSuffix('a/[bc]/d.ts'), '/d.ts');
  });

  it('two literal paths overlap only when equal or one lies under the other (a literal may name a folder)', () => {
    assert.equal(patternsOverlap('engine/pricing.py', 'engine/fees.py'), false);
    assert.equal(patternsOverlap('engine/fees.py', 'engine/fees.py'), true);
    assert.equal(patternsOverlap('engine', 'engine/fees.py'), true);
    assert.equal(patternsOverlap('engine/fees.py', 'engine/'), true);
    assert.equal(patternsOverlap('engine/fee', 'engine/fees.py'), false);
  });

  it('a literal against a glob: the glob matches it, or something under it', () => {
    assert.equal(patternsOverlap('engine/fees.py', 'engine/**'), true);
    assert.equal(patternsOverlap('engine/**', 'engine/fees.py'), true);
    assert.equal(patternsOverlap('engine/fees.py', 'tests/**'), false);
    assert.equal(patternsOverlap('tests', 'tests/*.py'), true, 'a folder literal meets a glob under it');
    assert.equal(patternsOverlap('engine/fees.py', '**/*.py'), true);
  });

  it('two globs are disjoint only when a literal prefix or suffix rules it out', () => {
    assert.equal(patternsOverlap('engine/**', 'tests/**'), false);
    assert.equal(patternsOverlap('engine/**', 'engine/sub/*.py'), true);
    assert.equal(patternsOverlap('src/a*', 'src/ab*'), true);
    assert.equal(patternsOverlap('**/*.py', '**/*.md'), false);
    assert.equal(patternsOverlap('**/*.py', 'engine/**'), true);
    assert.equal(patternsOverlap('{engine,tests}/**', 'tests/**'), true, 'a brace hides the prefix: overlap');
    assert.equal(patternsOverlap('eng?ne/*.py', 'engine/x.py'), true);
    assert.equal(patternsOverlap('*', 'a/**'), true);
  });

  it('never says disjoint when some path matches both (exhaustive over a small alphabet)', () => {
    const patterns = ['a', 'a/b', 'a/**', 'a/*', '**', '*', '**/b', '**/*.py', 'a/*.py', 'b/**', 'a?', 'a/b/**', '*.md', 'a/{b,c}', 'a/[bc]', '**/a/**', 'ab/**', 'a*', 'a/b.py', 'b.py', '**/b.py', 'a/**/b.py', '!a', 'a/+(b)', '@(a)/b'];
    const segs = ['a', 'b', 'c', 'ab', 'b.py', 'a.md', '!a', '+(b)', '@(a)'];
    const paths: string[] = [];
    for (const x of segs) {
      paths.push(x);
      for (const y of segs) {
        paths.push(`${x}/${y}`);
        for (const z of segs) paths.push(`${x}/${y}/${z}`);
      }
    }
    const matched = new Map(patterns.map((p) => [p, matchAll(paths, picomatch(p, PM))]));
    let checked = 0;
    for (const p of patterns) {
      for (const q of patterns) {
        const both = [...matched.get(p)!].find((f) => matched.get(q)!.has(f));
        if (both) {
          assert.equal(patternsOverlap(p, q), true, `${p} and ${q} both match ${both} but were called disjoint`);
          checked++;
        }
      }
    }
    assert.ok(checked > 100, `only ${checked} overlapping pairs exercised`);
    // And it is not trivially "always overlap".
    assert.equal(patternsOverlap('a/**', 'b/**'), false);
  });

  it('compares modify with modify, and each modify with the other readonly; readonly with readonly never conflicts', () => {
    const d201 = { modify: ['engine/pricing.py', 'tests/test_pricing.py'], readonly: ['engine/fees.py'] };
    const d202 = { modify: ['engine/slippage.py', 'tests/test_slippage.py'], readonly: ['engine/pnl.py', 'engine/fees.py'] };
    assert.equal(scopeOverlap(d201, d202), null);
    const writesFees = { modify: ['engine/fees.py'], readonly: [] };
    const o = scopeOverlap(writesFees, d201, ['engine/fees.py', 'engine/pricing.py']);
    assert.deepEqual(o, { sides: 'modify/readonly', a: 'engine/fees.py', b: 'engine/fees.py', file: 'engine/fees.py' });
    assert.ok(o);
    assert.match(overlapReason(o), /modify scope "engine\/fees.py" meets the readonly scope "engine\/fees.py" \(both match engine\/fees.py\)/);
    assert.equal(scopeOverlap(d201, writesFees)?.sides, 'readonly/modify');
    const wide = { modify: ['engine/**', 'tests/**'], readonly: ['scripts/**'] };
    assert.equal(scopeOverlap(wide, d202)?.sides, 'modify/modify');
    assert.equal(scopeOverlap({ modify: ['docs/**'], readonly: ['engine/**'] }, { modify: ['scripts/**'], readonly: ['engine/**'] }), null);
  });
});
