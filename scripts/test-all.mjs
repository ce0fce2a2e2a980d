#!/usr/bin/env node
// `npm test`: type-check, lint, build, then every mocha tier in order (unit → docker → e2e).
// Each tier prints its own mocha summary; the last line is the total in the plain
// "N passed, N failed, N skipped" form. Exit code is non-zero if any step failed.
import { spawnSync } from 'node:child_process';

const steps = [
  { name: 'typecheck', cmd: ['npx', 'tsc', '-p', '.', '--noEmit'] },
  { name: 'lint', cmd: ['npx', 'eslint', '.'] },
  { name: 'build', cmd: ['node', 'esbuild.js', '--tests'] },
  { name: 'unit', cmd: ['npx', 'mocha', '--config', '.mocharc.unit.json'], mocha: true },
  { name: 'docker', cmd: ['npx', 'mocha', '--config', '.mocharc.docker.json'], mocha: true },
  { name: 'e2e', cmd: ['npx', 'mocha', '--config', '.mocharc.e2e.json'], mocha: true },
];
const only = process.argv.slice(2);
let passed = 0, failed = 0, skipped = 0;
const failedSteps = [];
for (const step of steps) {
  if (only.length && !only.includes(step.name)) continue;
  process.stdout.write(`\n=== ${step.name}: ${step.cmd.join(' ')}\n`);
  const r = spawnSync(step.cmd[0], step.cmd.slice(1), { stdio: step.mocha ? ['inherit', 'pipe', 'inherit'] : 'inherit', encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (step.mocha) {
    const out = r.stdout ?? '';
    process.stdout.write(out);
    const n = (re) => Number((out.match(re) ?? [])[1] ?? 0);
    passed += n(/^\s*(\d+) passing/m);
    failed += n(/^\s*(\d+) failing/m);
    skipped += n(/^\s*(\d+) pending/m);
  }
  if (r.status !== 0) {
    failedSteps.push(step.name);
    if (!step.mocha) failed += 1;
  }
}
if (failedSteps.length) process.stdout.write(`\nfailed steps: ${failedSteps.join(', ')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failedSteps.length ? 1 : 0);
