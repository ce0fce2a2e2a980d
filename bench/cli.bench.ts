/**
 * CLI start-up: `factory status --json` on the real corpus as a whole process (spawn node
 * dist/cli.js), next to `node -e 0` measured in the same run (the floor no CLI can beat) and
 * `factory --version` (the bundle's load cost without any command work), plus status on the example
 * (whose config file makes zod load). Goal (issue 18 item 7): status on the corpus ≤ 1.25× `node -e 0`.
 * Each process also reports its own CPU time (user + system, at exit): on a machine shared with
 * other busy processes the wall clock mostly measures waiting for a core, the CPU time does not.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CORPUS_DIR } from '../test/support/engines';
import { fmt, line, summarize, time, type Timing } from './stats';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const RUNS = 21;

/** Preloaded into every measured process: its CPU time at exit, on stderr. */
const CPU_HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.cpuUsage(); writeSync(2, `\\nFACTORY_BENCH_CPU ${(u.user + u.system) / 1000}\\n`); });",
)}`;

/** CPU milliseconds per label, one sample per measured run. */
const cpu = new Map<string, number[]>();

function spawnNode(label: string, args: string[]): void {
  const r = spawnSync(process.execPath, ['--import', CPU_HOOK, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  const m = /FACTORY_BENCH_CPU ([\d.]+)/.exec(r.stderr.toString());
  if (m) cpu.set(label, [...(cpu.get(label) ?? []), Number(m[1])]);
}

function cpuOf(label: string): Timing {
  return summarize(cpu.get(label) ?? []);
}

export async function run(): Promise<void> {
  execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'pipe' });
  const target = fs.existsSync(CORPUS_DIR) ? CORPUS_DIR : path.join(ROOT, 'examples', 'demo-project');
  if (target !== CORPUS_DIR) console.log(`(corpus absent at ${CORPUS_DIR}; measuring the example instead)`);

  const example = path.join(ROOT, 'examples', 'demo-project');
  const baseline = await time(() => spawnNode('baseline', ['-e', '0']), RUNS);
  const version = await time(() => spawnNode('version', [CLI, '--version']), RUNS);
  const status = await time(() => spawnNode('status', [CLI, 'status', '--json', '--root', target]), RUNS);
  // With a .factory/config.json, zod loads to validate it: shown for comparison, no goal.
  const withConfig = await time(() => spawnNode('example', [CLI, 'status', '--json', '--root', example]), RUNS);
  line('node -e 0 (baseline)', baseline);
  line('factory --version (bundle load)', version, baseline);
  line(`factory status --json (${path.basename(target)})`, status, baseline, '≤ 1.25× baseline');
  line('factory status --json (example, with config)', withConfig, baseline);
  const cpuBase = cpuOf('baseline');
  for (const [label, name] of [['version', '--version'], ['status', `status (${path.basename(target)})`], ['example', 'status (example)']] as const) {
    const c = cpuOf(label);
    console.log(`    cpu ${name.padEnd(28)} median ${fmt(c.median)}  ratio ${(c.median / cpuBase.median).toFixed(2)}× vs node -e 0 ${fmt(cpuBase.median)}`);
  }
  const ratio = status.median / baseline.median;
  const cpuRatio = cpuOf('status').median / cpuBase.median;
  console.log(
    `status over baseline: +${(status.median - baseline.median).toFixed(1)} ms wall (${ratio.toFixed(2)}×), ` +
      `+${(cpuOf('status').median - cpuBase.median).toFixed(1)} ms cpu (${cpuRatio.toFixed(2)}×); ${ratio <= 1.25 ? 'MET' : 'MISSED'} ≤ 1.25× (wall)`,
  );
}
