import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand, stderrLogger } from '../io';

/**
 * `factory docops [--json]`: the SSOT Docs and DocOps Token guards plus the project's docops
 * guard scripts. Exit 0 PASS, 1 FAIL (commit forbidden, spec §5-1), 2 bad input.
 */
export function register(program: Command): void {
  program
    .command('docops')
    .description('Check the SSOT documents (invariants) and scan for forbidden tokens; FAIL forbids the commit')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--run-in <where>', 'where docops guard scripts run: "container" (default from config) or "host"')
    .option('--json', 'print the result as JSON')
    .option('-v, --verbose', 'log each guard to stderr')
    .action(async (opts: { root: string; json?: boolean; runIn?: string; verbose?: boolean }) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { docOpsWorkspace } = await import('../../core/guards/docops-workspace');
        const { FactoryError } = await import('../../core/util/errors');
        if (opts.runIn !== undefined && opts.runIn !== 'host' && opts.runIn !== 'container') {
          throw new FactoryError(`--run-in must be "host" or "container", got "${opts.runIn}"`, 'usage');
        }
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const report = await docOpsWorkspace(root, config, { ...(opts.runIn ? { runIn: opts.runIn } : {}), logger: stderrLogger(opts.verbose ?? false), signal });
        if (opts.json) {
          printJson(report);
        } else {
          for (const g of report.guards) {
            process.stdout.write(`${g.name}: ${g.status}${g.findings.length ? ` (${g.findings.length} finding${g.findings.length === 1 ? '' : 's'})` : ''}\n`);
            for (const f of g.findings) {
              const where = f.file ? `${f.file}${f.line ? `:${f.line}` : ''}: ` : '';
              process.stdout.write(`  ${f.severity === 'error' ? 'error' : 'warning'} ${where}${f.message}\n`);
            }
            if (g.status !== 'PASS' && g.outputTail) for (const l of g.outputTail.split('\n')) process.stdout.write(`  | ${l}\n`);
          }
          process.stdout.write(`DocOps: ${report.status}\n`);
        }
        return report.status === 'PASS' ? 0 : 1;
      });
    });
}
