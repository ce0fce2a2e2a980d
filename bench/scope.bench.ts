/**
 * Scope derivation on a generated repository (issue 15 "Done when"): 10,000 files, 2,000 commits
 * (made with `git fast-import`, one process), every 25th naming ticket D201 or one of its ACs, the
 * others naming other tickets (D2010 among them, which must not match), plus one factory PASS
 * commit with its evidence run. Figures, each next to `git log --name-only` over the whole history
 * measured in the same run:
 * - `historyCandidates` for D201 (goal < 300 ms);
 * - the whole derivation as the plan phase does it — `git ls-files`, `historyCandidates`,
 *   `deriveScope` (when derive.ts is present).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { defaultConfig } from '../src/core/config/schema';
import { historyCandidates, wordEre } from '../src/core/plan/scope/history-source';
import type { AcceptanceCriterion } from '../src/core/ssot/model';
import { line, time } from './stats';

const FILES = 10_000;
const COMMITS = 2_000;
const RUN_ID = '20260101_100000_d201_abc1234';
const git = (repo: string, ...args: string[]) => execFileSync('git', ['-c', 'core.hooksPath=/dev/null', '-C', repo, ...args], { stdio: 'pipe', maxBuffer: 1 << 28 });

/** A small deterministic PRNG (mulberry32): the same repository every run. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const filePath = (i: number) => `pkg${Math.floor(i / 1000)}/mod${Math.floor(i / 100) % 10}/file_${i}.py`;

/** The message of commit `k` (1-based; 1 is the initial tree) and whether it names D201. */
function message(k: number): string {
  if (k === COMMITS) return `factory: D201 PASS — D201::AC-2 DONE\n\nEvidence: logs/evidence/${RUN_ID}/\nChanged: pkg0/mod0/file_0.py (modified)\n\nFactory-Run: ${RUN_ID}\n`;
  if (k % 25 === 0) return `D201::AC-${(k / 25) % 4} step ${k}\n\nMore text about the change.\n`;
  if (k % 25 === 1) return `D2010: unrelated ticket, step ${k}\n`;
  return `D${100 + (k % 97)}: work item ${k}\n\nA longer body describing the change in a few words.\n`;
}

/** The fast-import stream: an initial commit of FILES files, then COMMITS − 1 commits of 1–8 files each. */
function fastImportStream(): string {
  const rnd = prng(15);
  const parts: string[] = [];
  const data = (s: string) => `data ${Buffer.byteLength(s)}\n${s}\n`;
  const t0 = 1_767_225_600;
  for (let k = 1; k <= COMMITS; k++) {
    parts.push(`commit refs/heads/main\nmark :${k}\ncommitter B <b@localhost> ${t0 + k * 60} +0000\n${data(k === 1 ? 'initial tree\n' : message(k))}`);
    if (k > 1) parts.push(`from :${k - 1}\n`);
    if (k === 1) {
      for (let i = 0; i < FILES; i++) parts.push(`M 100644 inline ${filePath(i)}\n${data(`# file ${i}\n`)}`);
      continue;
    }
    const n = 1 + Math.floor(rnd() * 8);
    for (let j = 0; j < n; j++) parts.push(`M 100644 inline ${filePath(Math.floor(rnd() * FILES))}\n${data(`# rev ${k}.${j}\n`)}`);
    if (k === COMMITS) parts.push(`M 100644 inline logs/evidence/${RUN_ID}/manifest.json\n${data(manifest())}`);
  }
  return parts.join('');
}

function manifest(): string {
  return JSON.stringify({
    schema_version: 1, run_id: RUN_ID, timestamp: '2026-01-01T10:00:00+00:00', d_number: 'd201', ticket_id: 'D201', task_name: '',
    ac_ids: ['D201::AC-2'], status: 'PASS', duration_seconds: 1, git: { branch: 'main', commit: null, status: 'clean' }, gates: {}, guards: {},
    gate_cache: null, runner: null, worker: null, cost_usd: null, profit_related: false, environment: {}, files: [],
  });
}

/** The generated repository, checked out (derivation reads the work tree's evidence folder). */
export async function makeRepo(): Promise<string> {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-bench-scope-'));
  git(repo, 'init', '-q', '-b', 'main');
  await new Promise<void>((resolve, reject) => {
    // glibc's default heap trimming makes fast-import call brk() ~150,000 times here (20 s instead of 1 s).
    const env = { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.top_pad=67108864:glibc.malloc.trim_threshold=268435456' };
    const p = spawn('git', ['-C', repo, 'fast-import', '--quiet'], { stdio: ['pipe', 'ignore', 'inherit'], env });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited ${code}`))));
    p.stdin.end(fastImportStream());
  });
  git(repo, 'reset', '-q', '--hard', 'main');
  // Packed as a server packs a clone (fast-import's own pack is not).
  git(repo, 'repack', '-adq');
  execFileSync('sync');
  return repo;
}

const acs: AcceptanceCriterion[] = [0, 1, 2, 3].map((n) => ({
  id: `D201::AC-${n}`, ticketId: 'D201', localId: `AC-${n}`, title: `step ${n}`, status: n === 2 ? 'DONE' : 'OPEN', rawStatus: 'OPEN', source: { file: 'L.md', line: n + 1 },
}));

export async function run(): Promise<void> {
  const t = performance.now();
  const repo = await makeRepo();
  console.log(`  generated ${FILES} files, ${COMMITS} commits in ${Math.round(performance.now() - t)} ms (not timed below)`);
  try {
    const exec = promisify(execFile);
    const files = new Set(git(repo, 'ls-files', '-z').toString('utf8').split('\0').filter(Boolean));
    const bare = { root: repo, ticketId: 'D201', acIds: acs.map((a) => a.id), evidenceDir: 'logs/evidence' };
    const req = { ...bare, files };
    const found = await historyCandidates(req);
    console.log(`  D201: ${found.filter((c) => c.source === 'history').length} history + ${found.filter((c) => c.source === 'evidence').length} evidence candidates`);
    const baseline = await time(() => exec('git', ['-C', repo, 'log', '--name-only'], { maxBuffer: 1 << 28 }), 9, 2);
    const grep = await time(() => exec('git', ['-C', repo, 'log', '-z', '--name-only', '--no-renames', '--format=%H%x00%B', '-E', ...req.acIds.concat('D201').map((id) => `--grep=${wordEre(id)}`)], { maxBuffer: 1 << 28 }), 9, 2);
    const hist = await time(() => historyCandidates(req), 9, 2);
    line('git log --name-only, whole history (baseline)', baseline);
    line('git log, only commits naming D201 (-E --grep)', grep, baseline);
    line('historyCandidates(D201)', hist, baseline, '< 300 ms');
    const derivePath = path.join(__dirname, '..', 'src', 'core', 'plan', 'scope', 'derive.ts');
    if (!fs.existsSync(derivePath)) return;
    const { deriveScope } = (await import(derivePath)) as typeof import('../src/core/plan/scope/derive');
    const config = defaultConfig();
    const list = [...files];
    const pure = await time(() => deriveScope({ ticketId: 'D201', acs, files: list, config, history: found }), 9, 2);
    line('deriveScope alone (pure, inputs ready)', pure, baseline);
    const whole = await time(async () => {
      const [ls, history] = await Promise.all([exec('git', ['-C', repo, 'ls-files', '-z'], { maxBuffer: 1 << 28 }), historyCandidates(bare)]);
      deriveScope({ ticketId: 'D201', acs, files: ls.stdout.split('\0').filter(Boolean), config, history });
    }, 9, 2);
    line('ls-files + historyCandidates + deriveScope', whole, baseline, '< 300 ms');
  } finally {
    fs.rmSync(repo, { recursive: true, force: true });
  }
}
