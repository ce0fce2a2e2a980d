import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { takeSnapshot } from '../../../src/core/changeset/snapshot';
import { overlayListing, overlayTargets } from '../../../src/core/sandbox/overlays';

describe('sandbox: read-only overlay targets', () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-overlay-'));
    const files = ['lib/a.py', 'lib/sub/b.py', 'engine/fees.py', 'engine/pnl.py', 'engine/deep/x.py', 'docs/a.md', 'docs/b.txt', 'docs/deep/c.md', 'D_ROADMAP.md', 'k.secret', 'engine/s.secret', '.git-like/x', 'odd [1].py'];
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      fs.writeFileSync(path.join(root, f), f);
    }
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('folders as one mount, literal files by lookup, wildcard globs matched under their folder: the same files picomatch over every path gives', () => {
    const snap = takeSnapshot(root);
    const globs = ['lib/**', 'engine/fees.py', 'docs/*.md', '**/*.secret', 'D_ROADMAP.md', 'nonexistent.py', 'engine/**/*.py', 'odd [1].py', './docs/b.txt'];
    const got = overlayTargets(snap, globs);
    // Reference: every file path of the snapshot through picomatch, minus what the lib/ mount covers.
    const match = picomatch(globs.filter((g) => g !== 'lib/**').map((g) => g.replace(/^\.\//, '')), { dot: true, nonegate: true, noextglob: true });
    const expected = ['lib', ...[...snap].filter(([p, e]) => e.type === 'file' && !p.startsWith('lib/') && match(p)).map(([p]) => p)].sort();
    assert.deepEqual(got, expected);
    assert.ok(got.includes('engine/fees.py') && got.includes('k.secret') && got.includes('engine/s.secret') && got.includes('docs/a.md'));
    assert.ok(!got.includes('docs/deep/c.md'), 'docs/*.md is one level');
    assert.ok(!got.includes('nonexistent.py'));
  });

  it('the partial listing (only what the globs can name, taken before the full snapshot) gives the same targets', () => {
    const snap = takeSnapshot(root);
    for (const globs of [
      ['lib/**', 'engine/fees.py', 'docs/*.md', 'D_ROADMAP.md', 'nonexistent.py', 'engine/**/*.py', 'odd [1].py', './docs/b.txt'],
      ['**/*.secret', 'docs/**'],
      ['engine/deep/x.py', 'lib/sub/**', 'missing/dir/**'],
      ['*.secret', '.env.*', 'docs/*.md', 'engine/*/x.py', 'odd [1].py'],
      ['**/*.secret', 'engine/*/x.py', 'engine/**'],
    ]) {
      const listing = overlayListing(root, globs);
      assert.deepEqual(overlayTargets(listing, globs), overlayTargets(snap, globs), globs.join(' '));
    }
    // Only the named parts are listed: a literal file needs no walk of the tree.
    assert.deepEqual([...overlayListing(root, ['engine/fees.py']).keys()], ['engine/fees.py']);
    // A wildcard without a globstar reaches only as deep as its parts: `*.secret` lists the top folder.
    assert.deepEqual([...overlayListing(root, ['*.secret']).keys()].filter((k) => k.includes('/')), []);
    assert.deepEqual([...overlayListing(root, ['engine/*.py']).keys()].sort(), ['engine', 'engine/deep', 'engine/fees.py', 'engine/pnl.py', 'engine/s.secret']);
  });

  it('a symlink is never followed by the listing, not even as a middle part of a glob\'s folder', () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-overlay-outside-'));
    try {
      fs.mkdirSync(path.join(outside, 'sub'));
      fs.writeFileSync(path.join(outside, 'sub', 'secret.py'), 'x');
      fs.symlinkSync(outside, path.join(root, 'linked'));
      const globs = ['linked/sub/secret.py', 'linked/sub/**', 'linked/**/*.py'];
      const listing = overlayListing(root, globs);
      assert.deepEqual([...listing.entries()], [['linked', { type: 'symlink' }]]);
      assert.deepEqual(overlayTargets(listing, globs), []);
    } finally {
      fs.rmSync(path.join(root, 'linked'), { force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});
