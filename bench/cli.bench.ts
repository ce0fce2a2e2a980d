/**
 * CLI start-up: `factory status --json` on the real corpus as a whole process (spawn node
 * dist/cli.js), next to `node -e 0` measured in the same run (the floor no CLI can beat) and
 * `factory --version` (the bundle's load cost without any command work), plus status on the example
 * (whose config file makes zod load). Goal: status on the corpus < 120 ms.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CORPUS_DIR } from '../test/support/engines';
import { line, time } from './stats';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const RUNS = 21;

function spawnNode(args: string[]): void {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
}

export async function run(): Promise<void> {
  execFileSync(process.execPath, ['esbuild.js'], { cwd: ROOT, stdio: 'pipe' });
  const target = fs.existsSync(CORPUS_DIR) ? CORPUS_DIR : path.join(ROOT, 'examples', 'demo-project');
  if (target !== CORPUS_DIR) console.log(`(corpus absent at ${CORPUS_DIR}; measuring the example instead)`);

  const baseline = await time(() => spawnNode(['-e', '0']), RUNS);
  const version = await time(() => spawnNode([CLI, '--version']), RUNS);
  const status = await time(() => spawnNode([CLI, 'status', '--json', '--root', target]), RUNS);
  // With a .factory/config.json, zod loads to validate it: shown for comparison, no goal.
  const example = await time(() => spawnNode([CLI, 'status', '--json', '--root', path.join(ROOT, 'examples', 'demo-project')]), RUNS);
  line('node -e 0 (baseline)', baseline);
  line('factory --version (bundle load)', version, baseline);
  line(`factory status --json (${path.basename(target)})`, status, baseline, '< 120 ms');
  line('factory status --json (example, with config)', example, baseline);
  console.log(`status over baseline: +${(status.median - baseline.median).toFixed(1)} ms; ${status.median < 120 ? 'within' : 'OVER'} the 120 ms goal`);
}
