// `npm run demo`: build the bundles, then run the Controller's `factory status` on the bundled
// example workspace. Needs nothing beyond `npm ci` (no Docker, no network, no API key).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join('examples', 'demo-project');

/** Run a node script in the repo root with inherited stdio; stop the demo on failure. */
function node(args, label) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    console.error(`demo: ${label} failed${r.error ? `: ${r.error.message}` : ` (exit ${r.status})`}`);
    process.exit(r.status || 1);
  }
}

console.log('== build (node esbuild.js)');
node(['esbuild.js'], 'build');
console.log(`\n== factory status --root ${example}\n`);
node(['dist/cli.js', 'status', '--root', example], 'factory status');
console.log(`
That is the Controller reading the example's SSOT documents: the roadmap (${example}/D_ROADMAP.md),
the AC queue (docs/v2/design/AC_LEDGER.md) and the newest evidence run.
The full PDCA demo (plan -> Worker in the Docker sandbox -> Gate -> apply, record, commit) arrives
with the cycle issue; ${example}/README.md describes the three tickets it will run.
Try also: node dist/cli.js status --root ${example} --json`);
