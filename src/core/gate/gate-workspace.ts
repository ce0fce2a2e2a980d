import { gateConfigErrors } from './command-check';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import { collectGitInfo } from '../evidence/git-info';
import { allocateRunDir, writeEvidence, type WrittenEvidence } from '../evidence/writer';
import { KEY_ENV } from '../gateway/routes';
import { FactoryError } from '../util/errors';
import { nullLogger, type Logger, type ProgressSink } from '../util/log';
import { jobLimits } from '../sandbox/job';
import { ContainerRunner } from './container-runner';
import { GateCache } from './gate-cache';
import type { GateReport } from './gate-model';
import { copyTreeForGate } from './gate-tree';
import { HostRunner } from './host-runner';
import { runGate } from './run-gate';
import type { StageRunner } from './stage-runner';

export interface GateRunnerHandle {
  runner: StageRunner;
  /** Removes the container runner's container and the temp copy it made; always call it. */
  dispose(): Promise<void>;
}

/**
 * The runner `gate.runIn` asks for, over the workspace `root`: the host runner in `root` itself,
 * or the container runner over a lazily made copy of `root` (without `.git`, secrets and the
 * Controller's own folders) in the configured worker image, with the worker limits.
 */
export function createGateRunner(
  root: string,
  config: FactoryConfig,
  opts: {
    runIn?: 'host' | 'container';
    runId: string;
    ticket: string;
    image?: string;
    logger?: Logger;
    onContainerStart?: (containerId: string) => void | Promise<void>;
    /**
     * Mount `root` itself instead of a copy: for a tree the Controller already owns and that has
     * no `.git` or secrets (a cycle's staging copy). Default false.
     */
    mountDirectly?: boolean;
  },
): GateRunnerHandle {
  const runIn = opts.runIn ?? config.gate.runIn;
  if (runIn === 'host') return { runner: new HostRunner({ cwd: root }), dispose: async () => undefined };
  let copy: Awaited<ReturnType<typeof copyTreeForGate>> | undefined;
  const [uid, gid] = config.worker.user.split(':').map(Number);
  const runner = new ContainerRunner({
    treeDir: opts.mountDirectly ? root : async () => {
      copy = await copyTreeForGate(root, { exclude: [config.paths.evidence, config.paths.autopilot], ...(uid ? { uid } : {}), ...(gid ? { gid } : {}) });
      return copy.dir;
    },
    image: opts.image ?? config.worker.image,
    limits: jobLimits(config.worker),
    user: config.worker.user,
    readOnly: false,
    runId: opts.runId,
    ticket: opts.ticket,
    repo: root,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.onContainerStart ? { onContainerStart: opts.onContainerStart } : {}),
  });
  return {
    runner,
    dispose: async () => {
      await runner.close(); // the runner's one container (DocOps scripts; runGate has closed it already)
      await copy?.dispose();
    },
  };
}

export interface GateWorkspaceOptions {
  root: string;
  config: FactoryConfig;
  stage?: string;
  runIn?: 'host' | 'container';
  /** Neither read nor write the gate cache for this run. */
  noCache?: boolean;
  image?: string;
  logger?: Logger;
  progress?: ProgressSink;
  signal?: AbortSignal;
  onContainerStart?: (containerId: string) => void | Promise<void>;
  /** Extra values to redact from outputs; the model API keys in the environment always are. */
  secrets?: Iterable<string>;
  /** Live, redacted output of the running step. */
  onOutput?: (step: { kind: 'guard' | 'stage'; name: string }, text: string) => void;
}

/** The model API keys this process holds (the CLI keeps them in its environment). */
export function environmentSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.values(KEY_ENV)
    .flat()
    .map((k) => env[k])
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
}

export interface GateWorkspaceResult {
  report: GateReport;
  evidence: WrittenEvidence;
}

/**
 * `factory gate` / "Factory: Run Gate": the Gate over the workspace as it is, recorded as an
 * evidence run labelled `gate` (or `gate_<stage>`), like the spec's `just gate` which writes
 * gate.log into logs/evidence/<run_id>/.
 */
export async function gateWorkspace(opts: GateWorkspaceOptions): Promise<GateWorkspaceResult> {
  const log = opts.logger ?? nullLogger;
  if (opts.stage !== undefined && !opts.config.gate.stages.some((s) => s.name === opts.stage)) {
    throw new FactoryError(`unknown gate stage "${opts.stage}" (configured: ${opts.config.gate.stages.map((s) => s.name).join(', ')})`, 'gate.unknown-stage');
  }
  // A Gate with no stage, or whose scripts are not in the repository, would "pass" or fail for
  // the config's sake: refused before anything runs or any evidence is written.
  const problems = gateConfigErrors(opts.root, opts.config);
  if (problems.length) throw new FactoryError(`the Gate cannot run as configured in .factory/config.json: ${problems.join('; ')}`, 'config.command-missing');
  const startedAt = new Date();
  const git = await collectGitInfo(opts.root, startedAt, opts.signal);
  const label = opts.stage ? `gate_${opts.stage}` : 'gate';
  const evidenceDir = path.join(opts.root, opts.config.paths.evidence);
  const { runId, dir } = await allocateRunDir(evidenceDir, startedAt, label, git.commit);
  const handle = createGateRunner(opts.root, opts.config, {
    runId,
    ticket: label,
    ...(opts.runIn ? { runIn: opts.runIn } : {}),
    ...(opts.image ? { image: opts.image } : {}),
    ...(opts.onContainerStart ? { onContainerStart: opts.onContainerStart } : {}),
    logger: log,
  });
  let report: GateReport;
  try {
    const cache = new GateCache(path.join(opts.root, opts.config.paths.autopilot, 'gate_cache'));
    report = await runGate({
      config: opts.noCache ? { ...opts.config, gate: { ...opts.config.gate, cache: { enabled: false } } } : opts.config,
      treeDir: opts.root,
      runner: handle.runner,
      ...(opts.stage ? { stage: opts.stage } : {}),
      cache,
      runId,
      secrets: [...environmentSecrets(), ...(opts.secrets ?? [])],
      ...(opts.onOutput ? { onOutput: opts.onOutput } : {}),
      logger: log,
      ...(opts.progress ? { progress: opts.progress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    // No half-made evidence run: the folder was empty until the Gate finished.
    await fs.promises.rmdir(dir).catch(() => undefined);
    throw err;
  } finally {
    await handle.dispose();
  }
  const evidence = await writeEvidence(evidenceDir, {
    runId,
    ticketId: label,
    taskName: opts.stage ? `Gate stage ${opts.stage}` : 'Gate',
    // An interrupted Gate is recorded as what it is, not as a failure of the code.
    status: opts.signal?.aborted ? 'ABORTED' : report.status,
    ...(opts.signal?.aborted ? { reasons: ['the Gate was interrupted'] } : report.failedAt ? { reasons: [`Gate FAIL at ${report.failedAt}`] } : {}),
    startedAt,
    endedAt: new Date(),
    git,
    gate: report,
    reproduce: [`git checkout ${git.commit ?? 'HEAD'}`, `factory gate${opts.stage ? ` --stage ${opts.stage}` : ''} --no-cache`, `factory evidence-check ${runId}`],
  });
  return { report, evidence };
}
