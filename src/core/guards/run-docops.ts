import type { FactoryConfig } from '../config/schema';
import { tailLines } from '../gate/gate-log';
import type { StageRunner } from '../gate/stage-runner';
import { nullLogger, type Logger, type ProgressSink } from '../util/log';
import { controllerRecordFilter } from '../evidence/records';
import { scanForbiddenTokens } from './docops-tokens';
import type { DocOpsReport, GuardResult } from './guard-model';
import { checkSsotDocs } from './ssot-docs';

export interface RunDocOpsOptions {
  root: string;
  config: FactoryConfig;
  /** Runs the project's `kind: "docops"` guard scripts; without one they are not run. */
  runner?: StageRunner;
  logger?: Logger;
  progress?: ProgressSink;
  signal?: AbortSignal;
}

/**
 * `factory docops` (spec §8 `just docops`): the built-in SSOT Docs and DocOps Token guards, then
 * the project's own docops guard scripts. Unlike the Gate, every guard runs (a report of all
 * problems is what a person fixing documents wants); any FAIL makes the whole report FAIL, which
 * forbids the commit.
 */
export async function runDocOps(opts: RunDocOpsOptions): Promise<DocOpsReport> {
  const log = opts.logger ?? nullLogger;
  const scripts = opts.config.guards.filter((g) => g.kind === 'docops');
  const total = 2 + (opts.runner ? scripts.length : 0);
  const guards: GuardResult[] = [];
  opts.progress?.({ step: 1, maxStep: total, message: 'SSOT Docs' });
  guards.push(await checkSsotDocs(opts.root, opts.config, opts.signal));
  opts.progress?.({ step: 2, maxStep: total, message: 'DocOps Token' });
  guards.push(scanForbiddenTokens(opts.root, opts.config.docops, controllerRecordFilter(opts.root, opts.config)));
  if (opts.runner) {
    for (const [i, g] of scripts.entries()) {
      opts.progress?.({ step: 3 + i, maxStep: total, message: g.name });
      const out = await opts.runner.run({ argv: g.command, timeoutMs: g.timeoutSeconds * 1000, label: g.name }, opts.signal);
      const status: GuardResult['status'] = out.startError ? 'ERROR' : out.timedOut ? 'TIMEOUT' : out.exitCode === 0 ? 'PASS' : 'FAIL';
      guards.push({
        name: g.name,
        source: 'script',
        status,
        argv: g.command,
        durationMs: out.durationMs,
        outputTail: tailLines(out.output),
        findings:
          status === 'PASS'
            ? []
            : [{ severity: 'error', message: out.startError ? `could not start: ${out.startError}` : out.timedOut ? `timed out after ${g.timeoutSeconds}s` : `exit ${out.exitCode}` }],
      });
    }
  } else if (scripts.length) {
    log.warn(`docops: ${scripts.length} guard script(s) not run (no runner)`);
  }
  for (const g of guards) log.info(`docops: ${g.name}: ${g.status}`);
  return { status: guards.some((g) => g.status === 'FAIL' || g.status === 'ERROR' || g.status === 'TIMEOUT') ? 'FAIL' : 'PASS', guards };
}
