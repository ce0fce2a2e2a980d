// `npm run demo`: the example workspace through real PDCA cycles, routed by the cost gate. Builds
// the bundles, copies examples/demo-project to a temp git repository, starts a scripted model
// provider on loopback (test/support/scripted-provider.ts: the real wire formats, token usage from
// the recordings) and runs the Controller there. The example's routing table sends every tier to
// the replay agent (recorded edits) on real model ids, so each cycle makes its recorded model
// calls on the routed model through the real model gateway, which meters and prices them; the
// sandbox and the Gate containers are the real ones:
//   1. the queue's next ticket (D201, LOW) runs on the economy route and PASSes: applied, ledger
//      DONE, roadmap 3/3, one commit;
//   2. the next one (D202, HIGH) writes outside its scope: FAIL, nothing applied;
//   3. D302 (HIGH, 'refuses orders') PASSes with the Auditor on another provider's model;
//   4. D301 (CRIT) keeps failing the Gate: the Auditor is called after 2 FAILs, BLOCKED after 3;
//      each retry's Worker steps up a tier;
//   5. `factory evidence-check --reproduce` re-runs the Gate on D201's verified tree and matches,
//      and fails once a file of D201's commit is changed.
// Prints the route and metered cost of each cycle and the month's cost by model; exits 0 only
// when every outcome is as expected. Needs Docker: on a fresh Debian machine as root it installs
// the engine and builds the worker image first (scripts/demo-provision.mjs decides;
// FACTORY_DEMO_PROVISION=0 turns that off).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { demoTurn, writeMeteredRecordings } from './demo-calls.mjs';
import { provisionPlan } from './demo-provision.mjs';

// The scripted provider is TypeScript (the tests' stand-in for a model API): load it through tsx.
const { ScriptedProvider } = await tsImport('../test/support/scripted-provider.ts', import.meta.url);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(root, 'examples', 'demo-project');
const replays = path.join(example, 'replays');
const cli = path.join(root, 'dist', 'cli.js');
const IMAGE = 'agentic-factory/worker-base:bookworm';
/** Dummy provider keys: the gateway injects them; the scripted provider checks it got them. */
const DEMO_KEY = 'sk-demo-key-scripted-provider-000000';

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

/**
 * `factory run … --json` → the per-cycle objects (one JSON line each). Asynchronous: the scripted
 * provider answers the cycles' model calls from this same process.
 */
function factoryRun(repo, replayDir, extra) {
  const env = { ...process.env, ANTHROPIC_API_KEY: DEMO_KEY, OPENAI_API_KEY: DEMO_KEY, GEMINI_API_KEY: DEMO_KEY };
  delete env.CODEX_API_KEY;
  delete env.GOOGLE_API_KEY;
  const child = spawn(process.execPath, [cli, 'run', '--root', repo, '--replay', replayDir, '--json', ...extra], { cwd: root, env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) => {
    child.on('error', (e) => fail(`factory run: ${e.message}`));
    child.on('close', (code) => {
      if (code !== 0 && code !== 1) fail(`factory run exited ${code}:\n${err}`);
      resolve(out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
    });
  });
}

/** The history lines of these cycles (by run id). */
function historyOf(repo, cycles) {
  const lines = fs.readFileSync(path.join(repo, 'logs/autopilot/history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  return cycles.map((c) => lines.find((l) => l.runId === c.runId) ?? {});
}

const usd = (n) => `$${(n ?? 0).toFixed(4)}`;

/** One role's route and metered spend from a history line: "worker replay gpt-5-mini (economy) $0.0071". */
function roleLine(line, role) {
  const entries = (line.spend ?? []).filter((e) => e.role === role);
  if (!entries.length) return role === 'worker' && line.model ? `worker ${line.agent ?? '?'} ${line.model}` : undefined;
  return entries.map((e) => `${role} ${e.agent ?? '?'} ${e.model ?? '?'}${e.tier ? ` (${e.tier})` : ''} ${e.priced === false ? 'unpriced' : usd(e.costUsd)}`).join(', ');
}

/** What the Worker runtime wrote as cost_estimate_usd, from the evidence's result.json (kept as the claim beside the metered figure). */
function workerClaim(evidenceDir) {
  const find = (dir) => {
    for (const e of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const p = path.join(dir, e.name);
      if (e.isFile() && e.name === 'result.json') return p;
      const inner = e.isDirectory() ? find(p) : undefined;
      if (inner) return inner;
    }
    return undefined;
  };
  const file = find(evidenceDir);
  if (!file) return undefined;
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  return r.cost_claimed_by_worker_usd ?? r.cost_estimate_usd;
}

/** Print a cycle: status, ticket, then its routes and metered cost. */
function show(c, line, extra = '') {
  console.log(`${c.status} ${c.ticketId}${extra}: ${c.reasons.join('; ') || (c.commit ? `${c.acIds.join(', ')} → commit ${c.commit.slice(0, 7)}` : '')}`);
  const roles = ['worker', 'auditor'].map((r) => roleLine(line, r)).filter(Boolean);
  console.log(`    ${roles.join(' · ') || 'no route recorded'} · cycle ${usd(c.costUsd)} metered · run ${c.runId}`);
}

/**
 * sha256 of every file outside .git and the Controller's own records (logs/autopilot, and the
 * evidence runs: a FAIL leaves one too, marked with its verdict).
 */
function treeDigest(repo) {
  const r = run('git', ['-C', repo, 'ls-files', '-z', '--cached', '--others']);
  const files = r.stdout.split('\0').filter((f) => f && !f.startsWith('logs/autopilot/') && !f.startsWith('logs/evidence/'));
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
// The recordings with their model calls first (examples/demo-project/replays/model-calls.json).
const metered = path.join(tmp, 'replays');
writeMeteredRecordings(replays, metered);
const provider = await ScriptedProvider.start({ script: demoTurn, expectedKey: DEMO_KEY });
// The gateway's upstreams: the scripted provider on loopback, for every provider.
const configFile = path.join(repo, '.factory/config.json');
const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
config.gateway = { upstreams: { anthropic: provider.url, openai: provider.url, gemini: provider.url } };
fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
git(repo, 'init', '-q');
git(repo, 'add', '-A');
git(repo, 'commit', '-q', '-m', 'demo-project as shipped');
console.log(`\n== a git copy of the example: ${repo}`);
console.log(`   scripted model provider on ${provider.url} (gateway.upstreams in the copy's config; dummy keys)`);

const status = run(process.execPath, [cli, 'status', '--root', repo]);
process.stdout.write(status.stdout);

const checks = [];
const check = (ok, what) => checks.push({ ok: Boolean(ok), what });

console.log('\n== cycle 1: the queue\'s next ticket (factory run): D201 is LOW → the economy route');
const [c1] = await factoryRun(repo, metered, []);
const [h1] = historyOf(repo, [c1]);
const ledger = fs.readFileSync(path.join(repo, 'docs/v2/design/AC_LEDGER.md'), 'utf8');
const roadmap = fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8');
const head1 = git(repo, 'log', '-1', '--format=%H %s').trim();
show(c1, h1);
check(c1.ticketId === 'D201' && c1.status === 'PASS', 'D201 PASSes');
check(c1.commit && head1.startsWith(c1.commit) && /D201 PASS/.test(head1), 'one commit naming the ticket');
check(/\| D201::AC-2 \|[^\n]*\| DONE \| logs\/evidence\//.test(ledger) && /\| D201::AC-3 \|[^\n]*\| DONE \|/.test(ledger), 'ledger rows DONE with evidence');
check(/\| D201 \|[^\n]*\| 3\/3 \| DONE \|/.test(roadmap), 'roadmap D201 3/3 DONE');
check(c1.evidencePath && fs.existsSync(path.join(repo, c1.evidencePath, 'manifest.json')), 'evidence run with manifest');
check(h1.model === 'gpt-5-mini' && c1.costUsd > 0, 'the LOW ticket ran on the economy model (gpt-5-mini), metered cost > 0');
// The Worker runtime's own result.json (spec §4-2) reports the gateway's metered figure, not the agent's $0.
const claimed = workerClaim(path.join(repo, c1.evidencePath ?? ''));
console.log(`    result.json: the runtime reported ${claimed === undefined ? 'nothing' : usd(claimed)} (the gateway metered ${usd(c1.costUsd)})`);
check(claimed !== undefined && claimed > 0 && Math.abs(claimed - c1.costUsd) < 1e-9, 'result.json carries the gateway\'s metered cost');

console.log('\n== cycle 2: the next ticket (D202, HIGH) writes outside its scope');
const before = treeDigest(repo);
const [c2] = await factoryRun(repo, metered, []);
const [h2] = historyOf(repo, [c2]);
show(c2, h2);
check(c2.ticketId === 'D202' && c2.status === 'FAIL', 'D202 FAILs');
check(c2.violations.some((v) => v.path === 'engine/__init__.py'), 'the out-of-scope path is named');
check(treeDigest(repo) === before && c2.commit === null, 'nothing applied: the tree is byte-identical');

console.log('\n== cycle 3: D302 is HIGH (\'refuses orders\'): the Auditor runs on another provider\'s model');
const [c3] = await factoryRun(repo, metered, ['--ticket', 'D302']);
const [h3] = historyOf(repo, [c3]);
show(c3, h3, c3.audit ? ` (Auditor ${c3.audit.verdict})` : '');
const auditorModels = (h3.spend ?? []).filter((e) => e.role === 'auditor').map((e) => e.model);
check(c3.status === 'PASS' && c3.audit?.verdict === 'PASS' && c3.commit, 'D302 PASSes with the Auditor\'s PASS, committed');
check(h3.model === 'claude-sonnet-4-5' && auditorModels.length > 0 && auditorModels.every((m) => m && m !== h3.model), 'the Auditor ran on a different model than the Worker');

console.log('\n== cycles 4-6: D301 (CRIT) keeps failing the Gate (factory run --ticket D301 --max-cycles 5)');
const c4 = await factoryRun(repo, metered, ['--ticket', 'D301', '--max-cycles', '5']);
const h4 = historyOf(repo, c4);
c4.forEach((c, i) => show(c, h4[i], c.escalated ? ` (escalated → Auditor ${c.audit?.verdict ?? '?'})` : ''));
const roadmap3 = fs.readFileSync(path.join(repo, 'D_ROADMAP.md'), 'utf8');
check(c4.length === 3, 'exactly three cycles (then BLOCKED stops the run)');
check(c4[0]?.status === 'FAIL' && c4[1]?.status === 'FAIL' && !c4[0]?.escalated && !c4[1]?.escalated, 'two FAILs without the Auditor');
check(c4[2]?.escalated && c4[2]?.audit, 'the third cycle calls the Auditor');
check(c4[2]?.status === 'BLOCKED' && /\| D301 \|[^\n]*\| BLOCKED \(retry cap/.test(roadmap3), 'D301 BLOCKED in the roadmap with its reason');
await provider.close();

console.log('\n== reproduce D201\'s PASS: factory evidence-check --reproduce (the Gate again, in the sandbox, on the verified tree)');
const indent = (text) => text.trimEnd().split('\n').map((l) => `    ${l}`).join('\n');
const reproduce = () => run(process.execPath, [cli, 'evidence-check', '--reproduce', c1.runId, '--root', repo]);
const rep = reproduce();
console.log(indent(rep.stdout || rep.stderr));
check(rep.status === 0 && /^REPRODUCED/m.test(rep.stdout), 'D201\'s PASS reproduces: its commit holds the verified tree and every Gate step matches');
// The same run after a file of its commit is changed (the commit rewritten, its Factory-Run trailer kept).
const branch = git(repo, 'rev-parse', '--abbrev-ref', 'HEAD').trim();
git(repo, 'checkout', '-q', '--detach', c1.commit);
fs.appendFileSync(path.join(repo, 'engine/pricing.py'), '\n# changed after the run\n');
git(repo, 'commit', '-q', '-a', '--amend', '--no-edit');
console.log('\n== the same, after engine/pricing.py in D201\'s commit is changed (git commit --amend keeps the trailer)');
const tampered = reproduce();
console.log(indent(tampered.stdout || tampered.stderr));
check(tampered.status === 1 && /is not the tree that was verified .*: engine\/pricing\.py$/m.test(tampered.stdout), 'a changed file of that commit fails the reproduction, named');
git(repo, 'checkout', '-q', branch);

const all = [c1, c2, c3, ...c4];
const history = fs.readFileSync(path.join(repo, 'logs/autopilot/history.jsonl'), 'utf8').trim().split('\n').length;
const month = new Date().toISOString().slice(0, 7).replace('-', '');
const summaryFile = path.join(repo, 'logs/autopilot', `cost_summary_${month}.json`);
const summary = fs.existsSync(summaryFile) ? JSON.parse(fs.readFileSync(summaryFile, 'utf8')) : undefined;
const groups = (g) => Object.entries(g ?? {}).sort((a, b) => b[1].costUsd - a[1].costUsd)
  .map(([k, v]) => `${k.padEnd(20)} ${v.unpriced ? 'unpriced' : usd(v.costUsd)}  (${v.cycles} cycle${v.cycles === 1 ? '' : 's'})`);
const total = all.reduce((sum, c) => sum + c.costUsd, 0);
console.log(`\n== report
  cycles        ${all.length} (history.jsonl: ${history} lines, hash-chained)
  commits       ${git(repo, 'log', '--format=%h %s').trim().split('\n').join('\n                ')}
  model calls   ${provider.served.requests} through the gateway (${provider.served.input} input, ${provider.served.output} output tokens)
  cost          ${usd(total)} metered by the gateway
  cost by model (logs/autopilot/cost_summary_${month}.json)
                ${groups(summary?.byModel).join('\n                ') || '(no summary)'}
  cost by role  ${groups(summary?.byRole).join('\n                ') || '(none)'}
  cost by tier  ${groups(summary?.byTier).join('\n                ') || '(none)'}
  per accepted AC  ${summary?.usdPerAcceptedAc == null ? '—' : usd(summary.usdPerAcceptedAc)} (${summary?.acceptedAcs ?? 0} ACs accepted)
`);
check(total > 0 && provider.served.requests > 0, 'non-zero cost metered by the gateway from the scripted provider\'s usage');
check(summary && Object.keys(summary.byModel).some((m) => m === 'gpt-5-mini') && Object.keys(summary.byModel).some((m) => m === 'claude-sonnet-4-5'), 'the month\'s cost by model names the routed models');
for (const c of checks) console.log(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.what}`);
const bad = checks.filter((c) => !c.ok).length;
// The FAILed cycles kept their staging copies for inspection (in RAM when they fit); they go with
// the throw-away repository unless it is kept.
const keptCopies = [c2, ...c4].map((c) => c?.stagingKept).filter(Boolean);
if (process.env.FACTORY_DEMO_KEEP === '1') console.log(`\nkept: ${repo}${keptCopies.length ? ` and the FAILed cycles' staging copies ${keptCopies.join(', ')}` : ''}`);
else {
  for (const d of keptCopies) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
}
if (bad) fail(`${bad} of ${checks.length} expectations failed`);
console.log(`\nAll ${checks.length} expectations met. Try: node dist/cli.js dry --root examples/demo-project`);
