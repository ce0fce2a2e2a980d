import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExtHostResults } from '../exthost/index';
import { requireChromium } from '../support/engines';
import { requireCodeServer } from './harness/code-server';
import { PROJECT_ROOT, Session, packageVsix } from './harness/session';

/** Waits for a file to appear (the suite writes it with an atomic rename) and parses it. */
async function waitForJson<T>(file: string, timeoutMs: number, session: Session): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`no extension-host results after ${timeoutMs} ms; code-server log:\n${session.logTail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/**
 * Runs test/exthost/** (mocha) inside code-server's real extension host: the packaged extension
 * loads dist/exthost-tests.js because FACTORY_EXTHOST_TESTS is set, and writes its results to the
 * file this driver waits for.
 */
describe('e2e: extension-host suite in a real VS Code', function () {
  let session: Session | undefined;

  after(async function () {
    this.timeout(60_000);
    await session?.close();
  });

  it('every extension-host test passes in code-server\'s extension host', async function () {
    this.timeout(300_000);
    const chromium = requireChromium(this);
    const install = requireCodeServer(this);
    packageVsix(); // also rebuilds dist/exthost-tests.js
    const bundle = path.join(PROJECT_ROOT, 'dist', 'exthost-tests.js');
    assert.ok(fs.existsSync(bundle), `${bundle} was built`);
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-exthost-results-'));
    const resultsFile = path.join(resultsDir, 'results.json');
    try {
      session = new Session({
        install,
        chromium,
        name: 'exthost',
        env: { FACTORY_EXTHOST_TESTS: resultsFile, FACTORY_EXTHOST_TESTS_BUNDLE: bundle },
      });
      await session.start();
      const results = await waitForJson<ExtHostResults>(resultsFile, 180_000, session);
      await session.workbench?.screenshot('exthost-01-after-suite');
      console.log(`      extension host: VS Code ${results.vscodeVersion ?? '?'}`);
      for (const t of results.tests) {
        console.log(`      ${t.state === 'passed' ? '✔' : t.state === 'failed' ? '✘' : '-'} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}`);
        if (t.error) console.log(t.error.replace(/^/gm, '          '));
      }
      if (results.error) console.log(`      suite error: ${results.error}`);
      assert.equal(results.failed, 0, `${results.failed} extension-host test(s) failed`);
      assert.equal(results.pending, 0);
      assert.ok(results.passed >= 10, `expected the whole suite to run (passed: ${results.passed})`);
      assert.match(results.vscodeVersion ?? '', /^1\.\d+\.\d+/, 'ran against the real vscode API');
    } finally {
      fs.rmSync(resultsDir, { recursive: true, force: true });
    }
  });
});
