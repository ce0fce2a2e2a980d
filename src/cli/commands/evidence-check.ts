import type { Command } from 'commander';
import * as path from 'node:path';
import type { Reproduction, StepComparison } from '../../core/evidence/reproduce';
import { printJson, runCommand, stderrLogger } from '../io';

type Tests = NonNullable<StepComparison['recorded']>['tests'];

function cell(side: { status: string; tests: Tests; reason?: string } | null): string {
  if (!side) return '(none)';
  const t = side.tests;
  const detail = t && t.passed + t.failed + t.skipped + t.errors === 0 ? 'no test run' : t ? `${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ''}${t.errors ? `, ${t.errors} errors` : ''}` : side.reason;
  return `${side.status}${detail ? ` (${detail})` : ''}`;
}

/** The reproduction as a table: one row per Gate step, recorded against reproduced, then the verdict. */
export function reproductionText(r: Reproduction): string {
  const out: string[] = [`reproduce ${r.runId}`];
  out.push(`  commit   ${r.commit ?? '(not found)'}`);
  out.push(`  tree     ${r.tree.rebuilt ?? '(not rebuilt)'}${r.tree.matches ? ' = the verified tree' : ` (verified: ${r.tree.recorded})`}`);
  out.push(`  image    ${r.image.name}${r.image.id ? ` ${r.image.id}` : ''}`);
  if (r.steps.length) {
    const rows = r.steps.map((s) => [`${s.kind} ${s.name}`, cell(s.recorded), cell(s.reproduced), s.match ? 'ok' : `MISMATCH${s.note ? ` (${s.note})` : ''}`]);
    const head = ['step', 'recorded', 'reproduced', ''];
    const widths = [0, 1, 2].map((i) => Math.max(head[i].length, ...rows.map((row) => row[i].length)));
    const line = (row: string[]) => row.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join('  ').trimEnd();
    out.push('', line(head), ...rows.map(line));
  }
  out.push('', r.ok ? 'REPRODUCED: the commit holds the verified tree and every Gate step matches' : 'NOT REPRODUCED');
  for (const p of r.problems) out.push(`  ${p}`);
  return out.join('\n') + '\n';
}

/** `--reproduce RUN`: rebuild the verified tree from the run's commit and re-run the Gate on it; exit 0 only when all matches. */
async function reproduce(runId: string | undefined, opts: { root: string; json?: boolean; image?: string; verbose?: boolean }, signal: AbortSignal): Promise<number> {
  const { loadConfigStrict } = await import('../../core/config/load');
  const { reproduceRun } = await import('../../core/evidence/reproduce');
  const { FactoryError } = await import('../../core/util/errors');
  if (runId === undefined || !/^[\w.-]+$/.test(runId) || runId === '.' || runId === '..') throw new FactoryError('--reproduce needs a run id: factory evidence-check --reproduce RUN_ID', 'usage');
  const root = path.resolve(opts.root);
  const { config } = await loadConfigStrict(root);
  const r = await reproduceRun({ root, config, runId, ...(opts.image ? { image: opts.image } : {}), logger: stderrLogger(opts.verbose === true), progress: (m) => process.stderr.write(`reproduce: ${m}\n`), signal });
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  if (opts.json) printJson(r);
  else process.stdout.write(reproductionText(r));
  return r.ok ? 0 : 1;
}

/**
 * `factory evidence-check [RUN_ID] [--all] [--json]`: validate one evidence run (the newest when no
 * id is given) or every run. Exit 0 when valid, 1 when invalid (each reason printed), 2 on bad
 * input (config). `--reproduce RUN_ID`: re-run the Gate on the run's verified tree and compare
 * (exit 0 when the tree and every step match, 1 otherwise).
 */
export function register(program: Command): void {
  program
    .command('evidence-check')
    .description('Validate an evidence run (default: the newest): required files, JSON shape, manifest hashes')
    .argument('[run_id]', 'the run folder name under the evidence directory')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--all', 'validate every run')
    .option('--json', 'print the result as JSON')
    .option('--reproduce', "re-run the Gate in the sandbox on the run's verified tree (found through its commit) and compare it step by step with the recorded results")
    .option('--image <name>', 'with --reproduce: run the Gate in this image instead of the recorded one')
    .option('-v, --verbose', 'with --reproduce: log each step')
    .action(async (runId: string | undefined, opts: { root: string; all?: boolean; json?: boolean; reproduce?: boolean; image?: string; verbose?: boolean }) => {
      await runCommand(async (signal) => {
        if (opts.reproduce) return reproduce(runId, opts, signal);
        const { loadConfigStrict } = await import('../../core/config/load');
        const { validateEvidence } = await import('../../core/evidence/validator');
        const { evidenceIndexFile, loadEvidenceIndex } = await import('../../core/evidence/run-index');
        const { FactoryError } = await import('../../core/util/errors');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const evidenceDir = path.join(root, config.paths.evidence);
        let ids: string[];
        if (runId !== undefined) {
          // A run id is a folder name, never a path: `../x` must not validate something elsewhere.
          if (!/^[\w.-]+$/.test(runId) || runId === '.' || runId === '..') throw new FactoryError(`not a run id: ${runId}`, 'usage');
          ids = [runId];
        } else {
          const index = await loadEvidenceIndex(evidenceDir, { cacheFile: evidenceIndexFile(root, config) });
          ids = opts.all ? index.entries.map((e) => e.runId) : index.entries.slice(0, 1).map((e) => e.runId);
          if (ids.length === 0) {
            if (opts.json) printJson({ valid: false, runs: [], reason: `no evidence runs under ${config.paths.evidence}` });
            else process.stdout.write(`no evidence runs under ${config.paths.evidence}\n`);
            return 1;
          }
        }
        const checks = ids.map((id) => validateEvidence(path.join(evidenceDir, id), { profitTickets: config.evidence.profitTickets }));
        const valid = checks.every((c) => c.valid);
        if (opts.json) {
          printJson({ valid, runs: checks.map((c) => ({ runId: c.runId, valid: c.valid, problems: c.problems })) });
        } else {
          for (const c of checks) {
            process.stdout.write(`${c.runId}: ${c.valid ? 'VALID' : 'INVALID'}\n`);
            for (const p of c.problems) process.stdout.write(`  ${p.code}: ${p.message}\n`);
          }
        }
        return valid ? 0 : 1;
      });
    });
}
