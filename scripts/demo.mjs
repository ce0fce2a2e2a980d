// `npm run demo`: the example workspace through real PDCA cycles. Builds the bundles, copies
// examples/demo-project to a temp git repository, and runs the Controller there with the replay
// agent (recorded edits, no model or key needed) through the real sandbox, the real model gateway
// and the real Gate containers:
//   1. the queue's next ticket (D201) PASSes: applied, ledger DONE, roadmap 3/3, one commit;
//   2. the next one (D202) writes outside its scope: FAIL, nothing applied;
//   3. D301 keeps failing the Gate: the Auditor is called after 2 FAILs, BLOCKED after 3.
// Prints a short report; exits 0 only when all three outcomes are as expected. Needs Docker: on a
// fresh Debian machine as root it installs the engine and builds the worker image first
// (scripts/demo-provision.mjs decides; FACTORY_DEMO_PROVISION=0 turns that off).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { provisionPlan } from './demo-provision.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(root, 'examples', 'demo-project');
const replays = path.join(example, 'replays');
const cli = path.join(root, 'dist', 'cli.js');
const IMAGE = 'agentic-factory/worker-base:bookworm';

function fail(message) {
  console.error(`demo: ${message}`);
  process.exit(1);
}

/** Run a program to completion; stdout captured, stderr shown only on failure. */
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? root, encoding: 'utf8', timeout: opts.timeout ?? 600_000 });
  if (r.error) fail(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return r;
}

function git(repo, ...args) {
  const r = run('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'user.name=Demo', '-c', 'user.email=demo@localhost', '-C', repo, ...args]);
  if (r.status !== 0) fail(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `factory run … --json` → the per-cycle objects (one JSON line each). */
function factoryRun(repo, extra) {
  const r = run(process.execPath, [cli, 'run', '--root', repo, '--agent', 'replay', '--replay', replays, '--json', ...extra]);
  if (r.status !== 0 && r.status !== 1) fail(`factory run exited ${r.status}:\n${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** sha256 of every file outside .git and the Controller's own records. */
function treeDigest(repo) {
  const r = run('git', ['-C', repo, 'ls-files', '-z', '--cached', '--others']);
  const files = r.stdout.split('\0').filter((f) => f && !f.startsWith('logs/autopilot/'));
  const h = spawnSync('sha256sum', files, { cwd: repo, encoding: 'utf8' });
  return h.stdout;
}

console.log('== build (node esbuild.js)');
const build = run(process.execPath, ['esbuild.js']);
if (build.status !== 0) fail(`build failed:\n${build.stderr}`);
process.stdout.write(build.stdout);

const engineUp = () => run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 15_000 }).status === 0;
const imagePresent = () => run('docker', ['image', 'inspect', IMAGE], { timeout: 15_000 }).status === 0;
const up = engineUp();
const setup = provisionPlan({
  dockerHost: process.env.DOCKER_HOST,
  isRoot: process.getuid?.() === 0,
  hasApt: spawnSync('sh', ['-c', 'command -v apt-get']).status === 0,
  engineUp: up,
  imagePresent: up && imagePresent(),
  optOut: process.env.FACTORY_DEMO_PROVISION === '0',
});
if (setup.error) fail(setup.error);
for (const step of setup.steps) {
  const [what, script] = step === 'engine'
    ? ["installing Debian's docker.io and starting dockerd (no bridge network)", 'scripts/ci/provision-docker.sh']
    : [`building the Worker image ${IMAGE} from Debian packages (≈1 min)`, 'scripts/build-worker-image.sh'];
  console.log(`\n== provisioning: ${what}`);
  const r = spawnSync('bash', [path.join(root, script)], { cwd: root, stdio: 'inherit', timeout: 1_200_000 });
  if (r.status !== 0) fail(`${script} failed (exit ${r.status}); see its output above`);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-demo-'));
const repo = path.join(tmp, 'demo-project');
fs.cpSync(example, repo, { recursive: true, filter: (src) => !src.startsWith(replays) });
git(repo, 'init', '-q');
git(repo, 'add', '-A');
git(repo, 'commit', '-q', '-m', 'demo-project as shipped');
console.log(`\n== a git copy of the example: ${repo}`);

const status = run(process.execPath, [cli, 'status', '--root', repo]);
process.stdout.write(status.stdout);

const checks = [];
const check = (ok, what) => checks.push({ ok: Boolean(ok), what });

console.log('\n== cycle 1: the queue\'s next ticket (factory run)');
const [c1] = factoryRun(repo, []);
const ledger = fs.readFileSync(path.join(repo, 'docs/v2/design/AC_LEDGER.md'), 'utf8');
const roadmap = fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8');
const head1 = git(repo, 'log', '-1', '--format=%H %s').trim();
console.log(`${c1.status} ${c1.ticketId} ${c1.acIds.join(', ')} → commit ${c1.commit?.slice(0, 7)}, evidence ${c1.evidencePath}`);
check(c1.ticketId === 'D201' && c1.status === 'PASS', 'D201 PASSes');
check(c1.commit && head1.startsWith(c1.commit) && /D201 PASS/.test(head1), 'one commit naming the ticket');
check(/\| D201::AC-2 \|[^\n]*\| DONE \| logs\/evidence\//.test(ledger) && /\| D201::AC-3 \|[^\n]*\| DONE \|/.test(ledger), 'ledger rows DONE with evidence');
check(/\| D201 \|[^\n]*\| 3\/3 \| DONE \|/.test(roadmap), 'roadmap D201 3/3 DONE');
check(c1.evidencePath && fs.existsSync(path.join(repo, c1.evidencePath, 'manifest.json')), 'evidence run with manifest');

console.log('\n== cycle 2: the next ticket writes outside its scope');
const before = treeDigest(repo);
const [c2] = factoryRun(repo, []);
console.log(`${c2.status} ${c2.ticketId}: ${c2.reasons.join('; ')}`);
check(c2.ticketId === 'D202' && c2.status === 'FAIL', 'D202 FAILs');
check(c2.violations.some((v) => v.path === 'engine/__init__.py'), 'the out-of-scope path is named');
check(treeDigest(repo) === before && c2.commit === null, 'nothing applied: the tree is byte-identical');

console.log('\n== cycles 3-5: D301 keeps failing the Gate (factory run --ticket D301 --max-cycles 5)');
const c3 = factoryRun(repo, ['--ticket', 'D301', '--max-cycles', '5']);
for (const c of c3) console.log(`${c.status} ${c.ticketId}${c.escalated ? ' (escalated → Auditor ' + (c.audit?.verdict ?? '?') + ')' : ''}: ${c.reasons.join('; ')}`);
const roadmap3 = fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8');
check(c3.length === 3, 'exactly three cycles (then BLOCKED stops the run)');
check(c3[0]?.status === 'FAIL' && c3[1]?.status === 'FAIL' && !c3[0]?.escalated && !c3[1]?.escalated, 'two FAILs without the Auditor');
check(c3[2]?.escalated && c3[2]?.audit, 'the third cycle calls the Auditor');
check(c3[2]?.status === 'BLOCKED' && /\| D301 \|[^\n]*\| BLOCKED \(retry cap/.test(roadmap3), 'D301 BLOCKED in the roadmap with its reason');

const history = fs.readFileSync(path.join(repo, 'logs/autopilot/history.jsonl'), 'utf8').trim().split('\n').length;
console.log(`\n== report
  cycles        ${2 + c3.length} (history.jsonl: ${history} lines, hash-chained)
  commits       ${git(repo, 'log', '--format=%h %s').trim().split('\n').join('\n                ')}
  cost          $${[c1, c2, ...c3].reduce((s, c) => s + c.costUsd, 0).toFixed(4)} (replay agent: no model calls)
`);
for (const c of checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.what}`);
const bad = checks.filter((c) => !c.ok).length;
// The FAILed cycles kept their staging copies for inspection (in RAM when they fit); they go with
// the throw-away repository unless it is kept.
const keptCopies = [c2, ...c3].map((c) => c?.stagingKept).filter(Boolean);
if (process.env.FACTORY_DEMO_KEEP === '1') console.log(`\nkept: ${repo}${keptCopies.length ? ` and the FAILed cycles' staging copies ${keptCopies.join(', ')}` : ''}`);
else {
  for (const d of keptCopies) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}
if (bad) fail(`${bad} of ${checks.length} expectations failed`);
console.log(`\nAll ${checks.length} expectations met. Try: node dist/cli.js dry --root examples/demo-project`);
