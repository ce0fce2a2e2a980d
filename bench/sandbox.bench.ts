/**
 * Sandbox figures, each next to a baseline measured in the same run:
 *  1. container start-to-exit of a no-op Worker through runContainer vs `docker run --rm --network none IMG true`
 *  2. staging copy of a generated 10,000-file repo vs `git archive HEAD | tar -x`
 *  3. changeset + scope check on 10,000 files with 100 changed (goal < 300 ms) vs a bare lstat walk
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { diffSnapshots } from '../src/core/changeset/diff';
import { checkScope } from '../src/core/changeset/scope';
import { takeSnapshot } from '../src/core/changeset/snapshot';
import { runContainer } from '../src/core/sandbox/container';
import { createStagingCopy } from '../src/core/sandbox/staging';
import { performance } from 'node:perf_hooks';
import { line, summarize, time } from './stats';

const IMAGE = process.env.FACTORY_WORKER_IMAGE ?? 'agentic-factory/worker-base:bookworm';

function makeRepo(files: number): string {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-bench-repo-'));
  for (let i = 0; i < files; i++) {
    const dir = path.join(repo, i % 2 ? 'src' : 'tests', `pkg${i % 50}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `mod_${i}.py`), `# module ${i}\n${'x = 1\n'.repeat(20 + (i % 40))}`);
  }
  const git = (...a: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.email=b@example.invalid', '-c', 'user.name=b', ...a], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'bench');
  return repo;
}

async function benchContainer(): Promise<void> {
  try {
    execFileSync('docker', ['image', 'inspect', IMAGE], { stdio: 'ignore' });
  } catch {
    console.log(`container start-to-exit: skipped (image ${IMAGE} absent; run scripts/build-worker-image.sh)`);
    return;
  }
  const docker = new Docker();
  const baseline = await time(() => execFileSync('docker', ['run', '--rm', '--network', 'none', IMAGE, 'true'], { stdio: 'ignore' }), 10, 2);
  const ours = await time(async () => {
    const r = await runContainer(
      { image: IMAGE, cmd: ['true'], mounts: [], limits: { memoryMb: 256, cpus: 1, pidsLimit: 64, tmpfsMb: 16 }, labels: { runId: 'bench', ticket: 'bench', role: 'worker' }, timeoutMs: 30_000 },
      { docker },
    );
    if (r.status !== 'exited' || r.exitCode !== 0) throw new Error(`no-op Worker failed: ${r.status} ${r.error ?? ''}`);
  }, 10, 2);
  line('no-op Worker via runContainer (create→exit→rm)', ours, baseline, 'ratio ≤ 0.8 vs docker run --rm');
}

async function benchStaging(repo: string): Promise<void> {
  // Only the copy is timed; deleting 10,000 files afterwards is not measured. The baseline runs
  // into the same root the staging copy chose (RAM when the tree fits), and once more onto the
  // disk's temp folder, which is what the copy cost before it could live in RAM.
  const probe = await createStagingCopy({ root: repo, runId: 'bench', modify: ['src/**'] });
  const placement = probe.placement;
  probe.dispose();
  const same = fs.mkdtempSync(path.join(placement.root, 'factory-bench-tar-'));
  const disk = fs.mkdtempSync(path.join(os.tmpdir(), 'factory-bench-tar-'));
  const tar = (dest: string, i: number) => {
    const d = path.join(dest, String(i));
    fs.mkdirSync(d);
    const t0 = performance.now();
    execFileSync('sh', ['-c', 'git -C "$1" archive HEAD | tar -x -C "$2"', 'sh', repo, d]);
    const ms = performance.now() - t0;
    fs.rmSync(d, { recursive: true, force: true });
    return ms;
  };
  const baselineSamples: number[] = [];
  const diskSamples: number[] = [];
  const ourSamples: number[] = [];
  const cycleSamples: number[] = [];
  const commit = execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD']).toString().trim();
  for (let i = 0; i < 6; i++) {
    const b = tar(same, i);
    const dk = tar(disk, i);
    const t0 = performance.now();
    const s = await createStagingCopy({ root: repo, runId: 'bench', modify: ['src/**'] });
    const ours = performance.now() - t0;
    s.dispose();
    // As a cycle makes it: the plan's commit is known and PLAN has done the dirty check.
    const t1 = performance.now();
    const c = await createStagingCopy({ root: repo, runId: 'bench', modify: ['src/**'], commit, dirtyChecked: true });
    const inCycle = performance.now() - t1;
    c.dispose();
    if (i > 0) {
      baselineSamples.push(b);
      diskSamples.push(dk);
      ourSamples.push(ours);
      cycleSamples.push(inCycle);
    }
  }
  fs.rmSync(same, { recursive: true, force: true });
  fs.rmSync(disk, { recursive: true, force: true });
  console.log(`  staging root: ${placement.root} (${placement.kind}: ${placement.reason})`);
  line('staging copy of 10,000 files (incl. dirty check)', summarize(ourSamples), summarize(baselineSamples), '≤ 1.2× git archive | tar -x into the same root');
  line('the same as a cycle makes it (checked in PLAN)', summarize(cycleSamples), summarize(baselineSamples), '≤ 1.2× git archive | tar -x into the same root');
  line('git archive | tar -x onto the temp folder (disk)', summarize(diskSamples), summarize(ourSamples), 'the staging copy before it could live in RAM');
}

async function benchChangeset(repo: string): Promise<void> {
  const before = takeSnapshot(repo, { skip: (p) => p === '.git' });
  const files = [...before].filter(([, e]) => e.type === 'file').map(([p]) => p);
  for (const p of files.slice(0, 100)) fs.appendFileSync(path.join(repo, p), '# changed\n');
  const scope = { modify: ['src/**'], readonly: ['tests/pkg1/**'], forbidden: ['D_ROADMAP.md', '.env', 'logs/**'] };
  let changed = 0;
  const ours = await time(() => {
    const after = takeSnapshot(repo, { skip: (p) => p === '.git', previous: before });
    const changes = diffSnapshots(before, after);
    checkScope(changes, scope);
    changed = changes.length;
  }, 10, 2);
  const walk = await time(() => {
    const go = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.name === '.git') continue;
        const st = fs.lstatSync(path.join(d, e.name));
        if (st.isDirectory()) go(path.join(d, e.name));
      }
    };
    go(repo);
  }, 10, 2);
  if (changed !== 100) throw new Error(`expected 100 changes, saw ${changed}`);
  line('changeset + scope, 10,000 files / 100 changed', ours, walk, '< 300 ms; baseline = bare lstat walk');
}

export async function run(): Promise<void> {
  await benchContainer();
  const repo = makeRepo(10_000);
  try {
    await benchStaging(repo);
    await benchChangeset(repo);
  } finally {
    fs.rmSync(repo, { recursive: true, force: true });
  }
}
