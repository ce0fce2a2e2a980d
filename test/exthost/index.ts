/**
 * The extension-host test suite's entry: mocha run programmatically inside a REAL extension host
 * against the real `vscode` API. Bundled by `node esbuild.js --tests` into dist/exthost-tests.js.
 *
 * Two ways in:
 * - code-server (what our machines can run): the extension loads this bundle when
 *   FACTORY_EXTHOST_TESTS=<results.json> and FACTORY_EXTHOST_TESTS_BUNDLE=<this file> are set; the
 *   results go to that JSON file, which the e2e driver waits for (test/e2e/exthost.test.ts).
 * - @vscode/test-electron (.vscode-test.mjs) where VS Code can be downloaded: `run()` is its
 *   extensionTestsPath contract (resolve = pass, reject = failures).
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import type MochaType from 'mocha';

export interface ExtHostTestResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
}

export interface ExtHostResults {
  passed: number;
  failed: number;
  pending: number;
  tests: ExtHostTestResult[];
  /** The VS Code version the suite ran in (proves it was a real extension host). */
  vscodeVersion?: string;
  error?: string;
}

export async function run(): Promise<void> {
  // mocha stays external (resolved from the project's node_modules next to dist/); its CJS build
  // works in every Node an extension host may have.
  const Mocha = createRequire(__filename)('mocha/lib/mocha.cjs') as typeof MochaType;
  const mocha = new Mocha({ ui: 'bdd', timeout: 30_000, color: false, reporter: 'spec' });
  mocha.suite.emit('pre-require', globalThis, 'exthost', mocha);
  // Registered after pre-require put describe/it on globalThis.
  await import('./views.test');
  await import('./commands.test');
  await import('./diagnostics.test');
  await import('./trust.test');
  await import('./json-validation.test');
  await import('./runs.test');

  const results: ExtHostResults = { passed: 0, failed: 0, pending: 0, tests: [] };
  const vscode = await import('vscode');
  results.vscodeVersion = vscode.version;
  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('pass', (t) => {
      results.passed++;
      results.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
    });
    runner.on('fail', (t, err: Error) => {
      results.failed++;
      results.tests.push({ title: t.fullTitle(), state: 'failed', durationMs: t.duration, error: err.stack ?? String(err) });
    });
    runner.on('pending', (t) => {
      results.pending++;
      results.tests.push({ title: t.fullTitle(), state: 'pending' });
    });
  });
  const out = process.env.FACTORY_EXTHOST_TESTS;
  if (out) fs.writeFileSync(`${out}.tmp`, JSON.stringify(results, null, 2));
  if (out) fs.renameSync(`${out}.tmp`, out);
  if (results.failed > 0) throw new Error(`${results.failed} extension-host test(s) failed`);
}
