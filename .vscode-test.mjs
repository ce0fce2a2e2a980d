// The extension-host suite (test/exthost/**) under @vscode/test-electron, for machines where VS Code
// can be downloaded: `npm run test:vscode`. It runs the same bundle (dist/exthost-tests.js, whose
// `run()` is test-electron's extensionTestsPath contract) against a fresh copy of the example.
// Our CI cannot download VS Code; there the same suite runs inside code-server's extension host
// (test/e2e/exthost.test.ts).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTests } from '@vscode/test-electron';

const root = path.dirname(fileURLToPath(import.meta.url));
const build = spawnSync(process.execPath, ['esbuild.js', '--tests'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-vscode-test-'));
const workspace = path.join(tmp, 'demo-project');
fs.cpSync(path.join(root, 'examples', 'demo-project'), workspace, { recursive: true });
try {
  await runTests({
    version: process.env.VSCODE_TEST_VERSION ?? 'stable',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'dist', 'exthost-tests.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', `--user-data-dir=${path.join(tmp, 'user-data')}`],
  });
} catch (err) {
  console.error(`extension-host tests failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
