import * as assert from 'node:assert/strict';
import { checkRepoPath } from '../../../src/core/paths/validate';

describe('paths: the one path validator', () => {
  const rule = (p: string, opts = {}) => checkRepoPath(p, opts)?.rule;

  it('accepts ordinary repo paths, including spaces, quotes and NFC non-ASCII', () => {
    for (const p of ['src/a.py', 'tests/test a.py', `it's "quoted".txt`, 'docs/café.md', '한글/파일.md', '.env.example', 'a/.github/x'])
      assert.equal(rule(p), undefined, p);
  });

  it('SEC-17 rejects absolute, `..`, backslash, control characters and non-NFC paths', () => {
    assert.equal(rule('/etc/passwd'), 'absolute');
    assert.equal(rule('C:/x'), 'absolute');
    assert.equal(rule('~/x'), 'absolute');
    assert.equal(rule('../x'), 'dot-dot');
    assert.equal(rule('src/../../x'), 'dot-dot');
    assert.equal(rule('src\\x'), 'backslash');
    assert.equal(rule('src/a\nb'), 'control-char');
    assert.equal(rule('src/\u001b[31m'), 'control-char');
    assert.equal(rule('docs/cafe\u0301.md'), 'not-nfc');
    assert.equal(rule('src//x'), 'dot-segment');
    assert.equal(rule('./x'), 'dot-segment');
    assert.equal(rule(''), 'empty');
    assert.equal(rule('a'.repeat(300)), 'too-long');
  });

  it('SEC-10 rejects .git in any case and alias, .gitmodules, .gitattributes, .vscode and .github/workflows', () => {
    for (const p of ['.git/config', '.GIT/hooks/pre-commit', 'sub/.Git/x', '.git./hooks/x', '.git']) assert.equal(rule(p), 'git-dir', p);
    assert.equal(rule('.gitmodules'), 'gitmodules');
    assert.equal(rule('lib/.GitAttributes'), 'gitattributes');
    assert.equal(rule('.vscode/settings.json'), 'vscode');
    assert.equal(rule('.github/workflows/ci.yml'), 'workflows');
    assert.equal(rule('.GitHub/Workflows/ci.yml'), 'workflows');
    // protect:false keeps only .git (readonly/forbidden scope entries may name the others).
    assert.equal(rule('.vscode/settings.json', { protect: false }), undefined);
    assert.equal(rule('.git/config', { protect: false }), 'git-dir');
  });

  it('validates globs with the same segment rules', () => {
    assert.equal(rule('src/**', { kind: 'glob' }), undefined);
    assert.equal(rule('tests/*.py', { kind: 'glob' }), undefined);
    assert.equal(rule('**/.git/**', { kind: 'glob' }), 'git-dir');
    assert.equal(rule('../**', { kind: 'glob' }), 'dot-dot');
    assert.equal(rule('/abs/**', { kind: 'glob' }), 'absolute');
  });
});
