import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';

const REPO = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(REPO, 'test/fixtures/lint');

interface Finding { file: string; rule: string | null; line: number }

/**
 * Lints one fixture tree (shaped like the repository's src/) with the architecture rules
 * `eslint .` applies to src/ (eslint.architecture.mjs), and returns every finding.
 */
async function lintFixture(name: string): Promise<Finding[]> {
  const root = path.join(FIXTURES, name);
  // A computed specifier: the config is plain JavaScript without type declarations.
  const mod = (await import(pathToFileURL(path.join(REPO, 'eslint.architecture.mjs')).href)) as {
    architecture: (root: string) => Linter.Config[];
  };
  const eslint = new ESLint({ cwd: root, overrideConfigFile: true, overrideConfig: mod.architecture(root) });
  const results = await eslint.lintFiles(['src']);
  return results.flatMap((r) =>
    r.messages.map((m) => ({ file: path.relative(root, r.filePath), rule: m.ruleId, line: m.line })),
  );
}

describe('lint: layering, cycles and size (eslint.architecture.mjs)', function () {
  this.timeout(30_000);

  it('reports a two-file import cycle on both files', async () => {
    const found = await lintFixture('cycle');
    assert.deepEqual(
      found.map((f) => [f.file, f.rule]).sort(),
      [['src/core/util/cycle-a.ts', 'import-x/no-cycle'], ['src/core/util/cycle-b.ts', 'import-x/no-cycle']],
    );
  });

  it('reports an upward import (config → cycle), a dynamic one (ssot → cycle) too', async () => {
    const found = await lintFixture('upward');
    assert.deepEqual(found, [
      { file: 'src/core/config/load.ts', rule: 'import-x/no-restricted-paths', line: 2 },
      { file: 'src/core/ssot/lazy.ts', rule: 'import-x/no-restricted-paths', line: 2 },
    ]);
  });

  it('reports a 401-line file and an 81-line function', async () => {
    const found = await lintFixture('size');
    assert.deepEqual(
      found.map((f) => [f.file, f.rule]).sort(),
      [['src/core/ssot/long-file.ts', 'max-lines'], ['src/core/ssot/long-function.ts', 'max-lines-per-function']],
    );
  });

  it('reports src/worker importing the gateway proper or the config schema, src/shared importing config, src/cli importing src/extension', async () => {
    const found = await lintFixture('side');
    assert.deepEqual(
      found.map((f) => [f.file, f.line, f.rule]).sort(),
      [
        ['src/cli/main.ts', 2, 'import-x/no-restricted-paths'],
        ['src/shared/protocol.ts', 2, 'import-x/no-restricted-paths'],
        ['src/worker/main.ts', 3, 'import-x/no-restricted-paths'],
        ['src/worker/main.ts', 4, 'import-x/no-restricted-paths'],
      ],
    );
  });

  it('passes a clean tree (downward, same-layer and dynamic imports; worker → agents, config/prices and gateway/usage)', async () => {
    assert.deepEqual(await lintFixture('clean'), []);
  });
});
