import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand } from '../io';

/**
 * `factory evidence-check [RUN_ID] [--all] [--json]`: validate one evidence run (the newest when no
 * id is given) or every run. Exit 0 when valid, 1 when invalid (each reason printed), 2 on bad
 * input (config).
 */
export function register(program: Command): void {
  program
    .command('evidence-check')
    .description('Validate an evidence run (default: the newest): required files, JSON shape, manifest hashes')
    .argument('[run_id]', 'the run folder name under the evidence directory')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--all', 'validate every run')
    .option('--json', 'print the result as JSON')
    .action(async (runId: string | undefined, opts: { root: string; all?: boolean; json?: boolean }) => {
      await runCommand(async () => {
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
