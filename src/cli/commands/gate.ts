import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand, stderrLogger, stderrProgress } from '../io';

interface GateOptions {
  root: string;
  stage?: string;
  json?: boolean;
  cache: boolean;
  runIn?: string;
  verbose?: boolean;
}

/**
 * `factory gate [--stage NAME] [--json]`: preflight guards (fail-fast), then doctor → fast →
 * regression, in a fresh container by default; writes an evidence run with gate.log. Exit 0 on
 * PASS, 1 on FAIL, 2 on bad input (config, unknown stage, no engine).
 */
export function register(program: Command): void {
  program
    .command('gate')
    .description('Run the Gate: preflight guards (fail-fast), then doctor → fast → regression; records evidence')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--stage <name>', 'run the guards and only this stage')
    .option('--run-in <where>', 'override gate.runIn: "container" (default) or "host" (trusted code only)')
    .option('--no-cache', 'do not reuse (or record) an identical earlier PASS')
    .option('--json', 'print the result as JSON')
    .option('-v, --verbose', 'log each step and stream its output to stderr')
    .action(async (opts: GateOptions) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { gateWorkspace } = await import('../../core/gate/gate-workspace');
        const { FactoryError } = await import('../../core/util/errors');
        if (opts.runIn !== undefined && opts.runIn !== 'host' && opts.runIn !== 'container') {
          throw new FactoryError(`--run-in must be "host" or "container", got "${opts.runIn}"`, 'usage');
        }
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const { report, evidence } = await gateWorkspace({
          root,
          config,
          ...(opts.stage ? { stage: opts.stage } : {}),
          ...(opts.runIn ? { runIn: opts.runIn } : {}),
          noCache: !opts.cache,
          logger: stderrLogger(opts.verbose ?? false),
          ...(opts.verbose ? { onOutput: (_step: unknown, text: string) => process.stderr.write(text) } : { progress: stderrProgress() }),
          signal,
        });
        if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        const steps = [...report.guards, ...report.stages].map((s) => ({
          kind: s.kind,
          name: s.name,
          status: s.status,
          durationMs: Math.round(s.durationMs),
          ...(s.counts ? { counts: s.counts } : {}),
          ...(s.reason ? { reason: s.reason } : {}),
          ...(s.cached ? { cached: true } : {}),
        }));
        if (opts.json) {
          printJson({
            status: report.status,
            failedAt: report.failedAt ?? null,
            runId: evidence.runId,
            evidenceDir: path.relative(root, evidence.dir),
            runner: report.runner,
            cache: report.cache ?? null,
            steps,
          });
        } else {
          process.stdout.write(report.log);
          process.stdout.write(`Evidence: ${path.relative(process.cwd(), evidence.dir) || '.'}\n`);
        }
        // Ctrl-C: the evidence says ABORTED; the exit code is the interrupt's (130), not a Gate FAIL.
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new FactoryError('interrupted', 'interrupted');
        return report.status === 'PASS' ? 0 : 1;
      });
    });
}
