import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import type { Logger } from '../../core/util/log';

/** Env var naming the results file; setting it (with the bundle below) runs the suite. */
export const EXTHOST_TESTS_ENV = 'FACTORY_EXTHOST_TESTS';
/** Env var naming the test bundle (dist/exthost-tests.js of a `node esbuild.js --tests` build). */
export const EXTHOST_TESTS_BUNDLE_ENV = 'FACTORY_EXTHOST_TESTS_BUNDLE';

/**
 * Runs the extension-host test suite inside this (real) extension host when, and only when, both
 * env vars are set — the e2e driver sets them on code-server. The suite is not part of the .vsix:
 * it is loaded from the path given, so a production install without the variables is inert.
 * (Setting env vars on a user's editor process already allows running any code, e.g. NODE_OPTIONS.)
 */
export function runExtHostTestsIfRequested(log: Logger, env: NodeJS.ProcessEnv = process.env): boolean {
  const resultsFile = env[EXTHOST_TESTS_ENV];
  const bundle = env[EXTHOST_TESTS_BUNDLE_ENV];
  if (!resultsFile || !bundle) return false;
  log.warn(`${EXTHOST_TESTS_ENV} is set: running the extension-host tests from ${bundle}`);
  // After activate() returns, so the tests see this extension active with its API exported.
  setTimeout(() => {
    void (async () => {
      try {
        const suite = createRequire(__filename)(bundle) as { run(): Promise<void> };
        await suite.run();
        log.info('extension-host tests finished');
      } catch (err) {
        log.error(err instanceof Error ? err : String(err));
        // The suite writes the results itself; if it could not even load, say so in the same file.
        if (!fs.existsSync(resultsFile)) {
          fs.writeFileSync(resultsFile, JSON.stringify({ passed: 0, failed: 1, pending: 0, tests: [], error: String(err) }));
        }
      }
    })();
  }, 0);
  return true;
}
