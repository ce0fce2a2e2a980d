import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { FactoryConfig, GuardConfig, StageConfig } from '../config/schema';
import { RedactingStream, redact } from '../gateway/redact';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger, type ProgressSink } from '../util/log';
import { GateCache, gateCacheKey } from './gate-cache';
import { renderGateLog, tailLines } from './gate-log';
import type { GateCacheInfo, GateReport, StepResult } from './gate-model';
import type { StageRunner } from './stage-runner';
import { parseTestCounts } from './test-counts';
import { hashTree } from './tree-hash';

export interface RunGateOptions {
  config: Pick<FactoryConfig, 'gate' | 'guards' | 'paths'>;
  /** The tree under test on the host (the working tree or a cycle's staging copy): hashed for the cache. */
  treeDir: string;
  /**
   * The tree's content identity when the caller knows it without a walk (a cycle: base commit +
   * changeset, `stagingTreeHash`); otherwise the tree is hashed.
   */
  treeHash?: string;
  /** Where the commands run; bound to `treeDir` (host) or a copy of it mounted in a container. */
  runner: StageRunner;
  /** Run only this stage (after the preflight guards), as `factory gate --stage NAME`. */
  stage?: string;
  /** The gate cache; omitted or `config.gate.cache.enabled: false` → always run. */
  cache?: GateCache;
  /** The evidence run this Gate belongs to (recorded with a cached PASS). */
  runId?: string;
  logger?: Logger;
  progress?: ProgressSink;
  signal?: AbortSignal;
  /** Clock seam for tests. */
  now?: () => Date;
  /**
   * Values never to be shown or stored (API keys): replaced by [REDACTED] in every captured
   * output before it reaches gate.log, the evidence artifacts or the cache (SEC-25).
   */
  secrets?: Iterable<string | undefined>;
  /** Live, redacted output of the running step (the Run panel's streamed gate log). */
  onOutput?: (step: { kind: 'guard' | 'stage'; name: string }, text: string) => void;
}

/**
 * A guard is a step that gates the stages. Only preflight guards belong to the Gate; docops guards
 * run under `factory docops`.
 */
export function preflightGuards(guards: GuardConfig[]): GuardConfig[] {
  return guards.filter((g) => g.kind === 'preflight');
}

function selectStages(stages: StageConfig[], only: string | undefined): StageConfig[] {
  if (only === undefined) return stages;
  const found = stages.filter((s) => s.name === only);
  if (found.length === 0) {
    throw new FactoryError(`unknown gate stage "${only}" (configured: ${stages.map((s) => s.name).join(', ')})`, 'gate.unknown-stage');
  }
  return found;
}

const cachedStepSchema = z.object({
  kind: z.enum(['guard', 'stage']),
  name: z.string(),
  argv: z.array(z.string()),
  status: z.literal('PASS'),
  exitCode: z.number().nullable(),
  startedAt: z.string(),
  endedAt: z.string(),
  durationMs: z.number(),
  counts: z
    .object({
      framework: z.enum(['pytest', 'mocha', 'node-test', 'jest', 'generic']),
      passed: z.number(),
      failed: z.number(),
      skipped: z.number(),
      errors: z.number(),
      collected: z.number().optional(),
      failedTests: z.array(z.string()),
    })
    .optional(),
  outputTail: z.string(),
});
const cachedReportSchema = z.object({ guards: z.array(cachedStepSchema), stages: z.array(cachedStepSchema) });

/** Strip what a cache entry must not carry: full outputs (large) and the log (re-rendered). */
function forCache(r: GateReport): Record<string, unknown> {
  const strip = (s: StepResult) => {
    const { output: _output, ...rest } = s;
    return rest;
  };
  return { guards: r.guards.map(strip), stages: r.stages.map(strip) };
}

/** One guard or stage to run, in Gate order. */
interface GateStep {
  kind: 'guard' | 'stage';
  name: string;
  argv: string[];
  timeoutSeconds: number;
}

/** What every step of one Gate shares. */
interface GateContext {
  opts: RunGateOptions;
  log: Logger;
  now: () => Date;
  secrets: (string | undefined)[];
}

/**
 * The Controller's Gate: preflight guards first and fail-fast (a guard that fails stops the Gate;
 * no stage runs), then each configured stage in order (doctor → fast → regression by default),
 * each with its own timeout. A step passes only if it exits 0 AND its own test summary reports no
 * failures. An identical earlier PASS (same tree, commands and runner identity) is reused when the
 * cache is enabled, and the report says so.
 *
 * The spec's `just doctor|fast|regression` each repeat the preflight; here the guards run once per
 * Gate, before the first stage, since every stage of one Gate sees the same tree.
 *
 * The runner is closed when the Gate ends, on every path (its container is removed).
 */
export async function runGate(opts: RunGateOptions): Promise<GateReport> {
  try {
    return await gateOnce(opts);
  } finally {
    await opts.runner.close?.().catch((err: unknown) => opts.logger?.warn(`gate: could not release the runner: ${errorMessage(err)}`));
  }
}

async function gateOnce(opts: RunGateOptions): Promise<GateReport> {
  const ctx: GateContext = { opts, log: opts.logger ?? nullLogger, now: opts.now ?? (() => new Date()), secrets: [...(opts.secrets ?? [])] };
  const guards = preflightGuards(opts.config.guards);
  const stages = selectStages(opts.config.gate.stages, opts.stage);
  const startedAt = ctx.now();
  const t0 = performance.now();

  // Asked first so the engine answers (image inspect) while the tree is being hashed.
  const identity = opts.runner.identity(opts.signal);
  identity.catch(() => undefined);
  // The Controller's own output folders are not part of the code under test.
  const treeHash = opts.treeHash ?? hashTree(opts.treeDir, { exclude: [opts.config.paths.evidence, opts.config.paths.autopilot] });
  const runnerIdentity = await identity;
  const header = { runner: opts.runner.kind, runnerIdentity, treeHash, startedAt: startedAt.toISOString() };

  let cache: GateCacheInfo | undefined;
  const useCache = opts.cache !== undefined && opts.config.gate.cache.enabled;
  if (useCache) {
    const key = gateCacheKey({
      treeHash,
      guards: guards.map((g) => ({ name: g.name, argv: g.command })),
      stages: stages.map((s) => ({ name: s.name, argv: s.command })),
      runnerIdentity,
    });
    const lookup = cachedPass(ctx, opts.cache!, key, header, t0);
    if ('report' in lookup) return lookup.report;
    cache = lookup.info;
  }

  const plan: GateStep[] = [
    ...guards.map((g) => ({ kind: 'guard' as const, name: g.name, argv: g.command, timeoutSeconds: g.timeoutSeconds })),
    ...stages.map((s) => ({ kind: 'stage' as const, name: s.name, argv: s.command, timeoutSeconds: s.timeoutSeconds })),
  ];
  const results: StepResult[] = [];
  let failedAt: string | undefined;
  for (const [i, step] of plan.entries()) {
    if (failedAt !== undefined || opts.signal?.aborted) {
      results.push(skippedStep(ctx, step, opts.signal?.aborted ? 'gate aborted' : `${failedAt} failed`));
      continue;
    }
    opts.progress?.({ step: i + 1, maxStep: plan.length, message: `${step.kind} ${step.name}` });
    const sessionTimeoutMs = plan.slice(i).reduce((sum, st) => sum + st.timeoutSeconds * 1000, 0);
    const result = await runStep(ctx, step, sessionTimeoutMs);
    results.push(result);
    if (result.status !== 'PASS') failedAt = step.name;
  }

  const endedAt = ctx.now();
  const base: Omit<GateReport, 'log'> = {
    status: failedAt === undefined && !opts.signal?.aborted ? 'PASS' : 'FAIL',
    ...(failedAt !== undefined ? { failedAt } : opts.signal?.aborted ? { failedAt: 'aborted' } : {}),
    ...header,
    endedAt: endedAt.toISOString(),
    durationMs: performance.now() - t0,
    guards: results.filter((r) => r.kind === 'guard'),
    stages: results.filter((r) => r.kind === 'stage'),
    ...(cache ? { cache } : {}),
  };
  const report: GateReport = { ...base, log: renderGateLog(base) };
  if (useCache && cache && report.status === 'PASS') await storePass(ctx, opts.cache!, cache.key, report);
  return report;
}

/** The report fields known before any step runs (or the cache is asked). */
type GateHeader = Pick<GateReport, 'runner' | 'runnerIdentity' | 'treeHash' | 'startedAt'>;

/** An identical earlier PASS as this Gate's report, or the cache info a fresh run records. */
function cachedPass(ctx: GateContext, store: GateCache, key: string, header: GateHeader, t0: number): { report: GateReport } | { info: GateCacheInfo } {
  const entry = store.get(key);
  const parsed = entry ? cachedReportSchema.safeParse(entry.report) : undefined;
  const decideMs = performance.now() - t0;
  if (!entry || !parsed?.success) return { info: { key, hit: false, decideMs } };
  ctx.log.info(`gate: cache hit ${key.slice(0, 12)} (from run ${entry.runId ?? '?'}), commands not re-run`);
  const endedAt = ctx.now();
  const mark = (s: z.infer<typeof cachedStepSchema>): StepResult => ({ ...s, cached: true });
  const base: Omit<GateReport, 'log'> = {
    status: 'PASS',
    ...header,
    endedAt: endedAt.toISOString(),
    durationMs: performance.now() - t0,
    guards: parsed.data.guards.map(mark),
    stages: parsed.data.stages.map(mark),
    cache: { key, hit: true, ...(entry.runId ? { sourceRunId: entry.runId } : {}), storedAt: entry.storedAt, decideMs },
  };
  return { report: { ...base, log: renderGateLog(base) } };
}

/** A PASS goes into the cache; a cache that cannot be written costs a re-run next time, not the PASS. */
async function storePass(ctx: GateContext, store: GateCache, key: string, report: GateReport): Promise<void> {
  try {
    await store.put({ key, storedAt: report.endedAt, ...(ctx.opts.runId ? { runId: ctx.opts.runId } : {}), report: forCache(report) });
  } catch (err) {
    ctx.log.warn(`gate: could not store the PASS in the gate cache: ${errorMessage(err)}`);
  }
}

/** A step not run because an earlier one failed or the Gate was aborted. */
function skippedStep(ctx: GateContext, step: GateStep, reason: string): StepResult {
  const at = ctx.now().toISOString();
  return {
    kind: step.kind,
    name: step.name,
    argv: step.argv.map((a) => redact(a, ctx.secrets)),
    status: 'SKIPPED',
    exitCode: null,
    startedAt: at,
    endedAt: at,
    durationMs: 0,
    reason,
    outputTail: '',
  };
}

/** Run one step through the runner, streaming its redacted output, and judge it. */
async function runStep(ctx: GateContext, step: GateStep, sessionTimeoutMs: number): Promise<StepResult> {
  const { opts, log, secrets } = ctx;
  log.info(`gate: ${step.kind} ${step.name}: ${redact(step.argv.join(' '), secrets)}`);
  const stepStart = ctx.now();
  // Streamed output goes through a redacting stream, so a key split across chunks is still caught.
  let live: RedactingStream | undefined;
  if (opts.onOutput) {
    const onOutput = opts.onOutput;
    live = new RedactingStream(secrets);
    live.on('data', (d: Buffer) => onOutput({ kind: step.kind, name: step.name }, d.toString('utf8')));
  }
  const raw = await opts.runner.run(
    { argv: step.argv, timeoutMs: step.timeoutSeconds * 1000, sessionTimeoutMs, label: step.name, ...(live ? { onOutput: (c: Buffer) => live.write(c) } : {}) },
    opts.signal,
  );
  if (live) {
    const stream = live;
    await new Promise<void>((resolve) => stream.end(resolve));
  }
  const outcome = { ...raw, output: redact(raw.output, secrets) };
  const counts = parseTestCounts(outcome.output);
  const { status, reason } = judgeStep(outcome, counts, step.timeoutSeconds);
  log.info(`gate: ${step.kind} ${step.name}: ${status}${reason ? ` (${reason})` : ''}`);
  return {
    kind: step.kind,
    name: step.name,
    argv: step.argv.map((a) => redact(a, secrets)),
    status,
    exitCode: outcome.exitCode,
    startedAt: stepStart.toISOString(),
    endedAt: ctx.now().toISOString(),
    durationMs: outcome.durationMs,
    ...(counts ? { counts } : {}),
    ...(reason ? { reason } : {}),
    outputTail: tailLines(outcome.output),
    output: outcome.output,
  };
}

/** A step's status: it passes only if it exits 0 and its own test summary reports no failures. */
function judgeStep(
  outcome: Awaited<ReturnType<StageRunner['run']>>,
  counts: ReturnType<typeof parseTestCounts>,
  timeoutSeconds: number,
): { status: StepResult['status']; reason?: string } {
  if (outcome.startError !== undefined) return { status: 'ERROR', reason: `could not start: ${outcome.startError}` };
  if (outcome.timedOut) return { status: 'TIMEOUT', reason: `timed out after ${timeoutSeconds}s` };
  if (outcome.aborted) return { status: 'ERROR', reason: 'aborted' };
  if (outcome.exitCode !== 0) return { status: 'FAIL', reason: `exit ${outcome.exitCode}` };
  // A runner that exits 0 while its own summary reports failures is not believed.
  if (counts && (counts.failed > 0 || counts.errors > 0)) return { status: 'FAIL', reason: 'exit 0 but the test summary reports failures' };
  return { status: 'PASS' };
}
