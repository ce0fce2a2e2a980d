/**
 * `factory evidence-check --reproduce RUN`: re-run the Gate in the sandbox on the tree a PASS
 * verified and compare it, step by step, with what the evidence recorded. The commit that holds
 * the change is found by its trailer and must hold exactly the verified tree (reproduce-tree.ts);
 * that tree is exported into a staging copy and the Gate runs on it read-only, in the recorded
 * image, without the gate cache.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Docker from 'dockerode';
import type { FactoryConfig } from '../config/schema';
import { ContainerRunner } from '../gate/container-runner';
import type { GateReport, StepResult } from '../gate/gate-model';
import { environmentSecrets } from '../gate/gate-workspace';
import { runGate } from '../gate/run-gate';
import { jobLimits } from '../sandbox/job';
import { createStagingCopy } from '../sandbox/staging';
import { FactoryError, errorMessage } from '../util/errors';
import { nullLogger, type Logger } from '../util/log';
import { kpiSchema, type KpiStep, type VerifiedRecord } from './evidence-format';
import { checkRunTree, type TreeCheck } from './reproduce-tree';
import { validateEvidence } from './validator';

export interface ReproduceOptions {
  root: string;
  config: FactoryConfig;
  runId: string;
  /** Run the Gate in this image instead of the recorded one. */
  image?: string;
  docker?: Docker;
  logger?: Logger;
  /** One line per step of the reproduction (the CLI writes them to stderr). */
  progress?: (message: string) => void;
  signal?: AbortSignal;
}

type Tests = KpiStep['tests'];

/** One Gate step, as recorded and as reproduced (null: not in that run). */
export interface StepComparison {
  kind: 'guard' | 'stage';
  name: string;
  recorded: { status: string; tests: Tests } | null;
  reproduced: { status: string; tests: Tests; reason?: string } | null;
  match: boolean;
  /** Why a step may differ besides the tree: its command is not the recorded one. */
  note?: string;
}

export interface Reproduction {
  runId: string;
  commit: string | null;
  tree: { recorded: string; rebuilt: string | null; matches: boolean; differing: string[] };
  image: { name: string; recordedId: string | null; id: string | null };
  steps: StepComparison[];
  /** The tree is the verified one and every step matches. */
  ok: boolean;
  problems: string[];
  warnings: string[];
}

function sameTests(a: Tests, b: Tests): boolean {
  if (a === null || b === null) return a === b;
  return a.passed === b.passed && a.failed === b.failed && a.skipped === b.skipped && a.errors === b.errors;
}

function testsOf(s: StepResult): Tests {
  return s.counts ? { passed: s.counts.passed, failed: s.counts.failed, skipped: s.counts.skipped, errors: s.counts.errors } : null;
}

/** Step by step: same status and same test counts; a step only one side has is a mismatch. */
export function compareSteps(recorded: readonly KpiStep[], report: Pick<GateReport, 'guards' | 'stages'>): StepComparison[] {
  const now = [...report.guards, ...report.stages];
  const key = (s: { kind: string; name: string }) => `${s.kind}\0${s.name}`;
  const byKey = new Map(now.map((s) => [key(s), s]));
  const out: StepComparison[] = recorded.map((r) => {
    const s = byKey.get(key(r));
    byKey.delete(key(r));
    const reproduced = s ? { status: s.status, tests: testsOf(s), ...(s.reason ? { reason: s.reason } : {}) } : null;
    const match = s !== undefined && s.status === r.status && sameTests(r.tests, reproduced!.tests);
    const note = s && s.argv.join('\0') !== r.command.join('\0') ? 'its command differs from the recorded one (the Gate configuration changed)' : undefined;
    return { kind: r.kind, name: r.name, recorded: { status: r.status, tests: r.tests }, reproduced, match, ...(note ? { note } : {}) };
  });
  for (const s of byKey.values()) out.push({ kind: s.kind, name: s.name, recorded: null, reproduced: { status: s.status, tests: testsOf(s) }, match: false, note: 'not in the recorded run' });
  return out;
}

/** What the evidence says the PASS verified; an error for evidence that cannot be reproduced. */
function recordedRun(opts: ReproduceOptions): { verified: VerifiedRecord; steps: KpiStep[]; recordedImageId: string | null; problems: string[] } {
  const dir = path.join(opts.root, opts.config.paths.evidence, opts.runId);
  const check = validateEvidence(dir, { profitTickets: opts.config.evidence.profitTickets });
  const manifest = check.manifest;
  if (!manifest) throw new FactoryError(`evidence run ${opts.runId} cannot be read: ${check.problems.map((p) => p.message).join('; ')}`, 'evidence-invalid');
  if (manifest.status !== 'PASS') throw new FactoryError(`evidence run ${opts.runId} is a ${manifest.status}, not a PASS: there is no verified tree to reproduce`, 'evidence-invalid');
  let kpiJson: unknown;
  try {
    kpiJson = JSON.parse(fs.readFileSync(path.join(dir, 'kpi.json'), 'utf8'));
  } catch (err) {
    throw new FactoryError(`evidence run ${opts.runId}: kpi.json cannot be read (${errorMessage(err)}); \`factory evidence-check ${opts.runId}\` says what is wrong`, 'evidence-invalid');
  }
  const kpi = kpiSchema.safeParse(kpiJson);
  if (!manifest.verified && /^gate(_|$)/.test(manifest.ticket_id)) {
    throw new FactoryError(`evidence run ${opts.runId} is a \`factory gate\` run of the working tree, not a cycle's PASS: it has no verified tree; its README says how to re-run it (factory gate --no-cache on commit ${manifest.git.commit ?? 'HEAD'})`, 'evidence-invalid');
  }
  if (!manifest.verified || !kpi.success || !kpi.data.steps) {
    throw new FactoryError(`evidence run ${opts.runId} predates reproducible evidence: it records no verified tree and no per-step Gate results; \`factory evidence-check ${opts.runId}\` still checks its files`, 'evidence-invalid');
  }
  return { verified: manifest.verified, steps: kpi.data.steps, recordedImageId: manifest.verified.image_id, problems: check.problems.map((p) => `evidence: ${p.message}`) };
}

/** The Gate on the verified tree: exported into a staging copy, in the image, read-only, no cache. */
async function gateOnTree(opts: ReproduceOptions, tree: string, runner: ContainerRunner, workspace: string): Promise<GateReport> {
  const config = { ...opts.config, gate: { ...opts.config.gate, cache: { ...opts.config.gate.cache, enabled: false } } };
  return runGate({
    config,
    treeDir: workspace,
    treeHash: tree,
    runner,
    runId: `${opts.runId}_reproduce`,
    secrets: environmentSecrets(),
    logger: opts.logger ?? nullLogger,
    ...(opts.progress ? { progress: (p) => opts.progress!(`Gate [${p.step}/${p.maxStep}] ${p.message}`) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

/**
 * Reproduce the PASS `runId`: the run's commit must hold the verified tree (else FAIL naming the
 * files); the Gate runs again on that tree in the sandbox and each step's status and test counts
 * must equal the recorded ones. @throws FactoryError `evidence-invalid` for evidence that
 * predates reproducible evidence or is not a PASS.
 */
export async function reproduceRun(opts: ReproduceOptions): Promise<Reproduction> {
  const say = opts.progress ?? (() => undefined);
  const rec = recordedRun(opts);
  const image = opts.image ?? rec.verified.image ?? opts.config.worker.image;
  const out: Reproduction = {
    runId: opts.runId,
    commit: null,
    tree: { recorded: rec.verified.tree, rebuilt: null, matches: false, differing: [] },
    image: { name: image, recordedId: rec.recordedImageId, id: null },
    steps: [],
    ok: false,
    problems: [...rec.problems],
    warnings: [],
  };
  say(`finding the commit of ${opts.runId} and rebuilding its verified tree`);
  const tree: TreeCheck = await checkRunTree(opts.root, opts.runId, rec.verified, opts.signal);
  out.commit = tree.commit;
  out.tree = { recorded: rec.verified.tree, rebuilt: tree.rebuilt, matches: tree.matches, differing: tree.differing };
  out.problems.push(...tree.problems);
  out.warnings.push(...tree.warnings);
  if (!tree.matches || !tree.rebuilt) return out;
  const staging = await createStagingCopy({ root: opts.root, runId: `${opts.runId}_reproduce`, commit: tree.rebuilt, dirtyChecked: true, modify: [], workspaceMb: opts.config.worker.workspaceMb, memoryMb: opts.config.worker.memoryMb, ...(opts.signal ? { signal: opts.signal } : {}) });
  try {
    const runner = new ContainerRunner({ treeDir: staging.workspace, image, limits: jobLimits(opts.config.worker), user: `${staging.uid}:${staging.gid}`, readOnly: true, runId: `${opts.runId}_reproduce`, ticket: 'reproduce', repo: opts.root, cleanupPath: staging.dir, ...(opts.docker ? { docker: opts.docker } : {}), ...(opts.logger ? { logger: opts.logger } : {}) });
    out.image.id = await runner.identity(opts.signal);
    if (rec.recordedImageId && out.image.id !== rec.recordedImageId) {
      out.warnings.push(`the image ${image} is now ${out.image.id.slice(0, 19)}…, the run was verified in ${rec.recordedImageId.slice(0, 19)}…: a difference may come from the image`);
    }
    say(`running the Gate on tree ${tree.rebuilt.slice(0, 12)} in ${image} (no cache)`);
    const report = await gateOnTree(opts, tree.rebuilt, runner, staging.workspace);
    if (opts.signal?.aborted) throw new FactoryError('the reproduction was interrupted', 'interrupted');
    out.steps = compareSteps(rec.steps, report);
  } finally {
    await staging.disposeInBackground();
  }
  const mismatched = out.steps.filter((s) => !s.match);
  if (mismatched.length) out.problems.push(`the Gate does not reproduce: ${mismatched.map((s) => `${s.kind} ${s.name}`).join(', ')} ${mismatched.length === 1 ? 'differs' : 'differ'} from the recorded run`);
  out.ok = out.problems.length === 0;
  return out;
}
