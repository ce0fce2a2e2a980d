import type { FactoryConfig } from '../config/schema';
import type { Plan } from '../contracts/plan';
import { AGENT_PATHS } from '../agents/task';
import { gateConfigErrors } from '../gate/command-check';
import { preflightGuards } from '../gate/run-gate';
import { DEFAULT_LIMITS, SANDBOX_PATHS } from '../sandbox/job';
import { cycleRecords, cyclePaths, preparePlan } from './orchestrator';
import { evaluateKillSwitches, type KillSwitchDecision } from './kill-switches';
import { riskWhyLines, type RiskAssessment } from '../plan/risk';
import { routingLines } from '../plan/routing';
import { scopeFallbackLine, scopeReasonLines } from '../plan/scope/explain';

/** What `factory dry` shows: the cycle that `factory run` would start, without starting anything. */
export interface DryRun {
  plan: Plan;
  risk: RiskAssessment;
  baseCommit: string | null;
  killSwitches: KillSwitchDecision & { budgetUsd: number; timeMinutes: number; maxRetries: number; escalateAfterFails: number };
  /**
   * The Auditor of the plan (plan.routing.auditor): whether it is called, why (risk or escalation),
   * its route and the USD held back for it before the Worker starts.
   */
  auditor: { called: boolean; why: string | null; agent: string | null; model: string | null; tier: string | null; reserveUsd: number | null };
  worker: {
    image: string;
    user: string;
    network: 'none';
    limits: { memoryMb: number; cpus: number; pidsLimit: number; tmpfsMb: number; workspaceMb: number; timeMinutes: number };
    mounts: { container: string; source: string; mode: 'ro' | 'rw' }[];
  };
  gate: { runIn: string; guards: { name: string; command: string[]; timeoutSeconds: number }[]; stages: { name: string; command: string[]; timeoutSeconds: number }[] };
  adjust: { commit: boolean; push: boolean; writes: string[] };
  /**
   * Configuration errors `factory run` refuses on before any Worker starts (a stage or guard whose
   * script is not in the repository, no stage at all), each naming its config key. Empty when none.
   */
  configErrors?: string[];
}

/**
 * The dry run (spec `just factory_dry`): plan, mounts, limits, kill switches and Gate commands of
 * the next cycle. Reads the SSOT documents, git and history; writes nothing, starts nothing.
 */
export async function dryRun(root: string, config: FactoryConfig, opts: { ticket?: string; agent?: string; model?: string; signal?: AbortSignal } = {}): Promise<DryRun> {
  const history = cycleRecords(cyclePaths(root, config).history);
  const { built, baseCommit } = await preparePlan(root, config, { ...opts, history });
  const plan = built.plan;
  const ks = evaluateKillSwitches(history, plan.ticket_id, config);
  const routed = plan.routing?.auditor;
  const configErrors = gateConfigErrors(root, config);
  return {
    plan,
    risk: built.risk,
    baseCommit,
    killSwitches: { ...ks, ...config.killSwitch },
    auditor: {
      called: routed !== undefined,
      why: routed === undefined ? null : ks.escalate ? (ks.reason ?? 'escalation') : `risk ${built.risk.level} ≥ ${config.risk.auditorAt}`,
      agent: routed?.agent ?? null,
      model: routed?.model ?? null,
      tier: routed?.tier ?? null,
      reserveUsd: plan.routing?.reserve_usd ?? null,
    },
    worker: {
      image: config.worker.image,
      user: config.worker.user,
      network: 'none',
      limits: { memoryMb: config.worker.memoryMb, cpus: config.worker.cpus ?? DEFAULT_LIMITS.cpus, pidsLimit: config.worker.pidsLimit, tmpfsMb: config.worker.tmpfsMb, workspaceMb: config.worker.workspaceMb, timeMinutes: plan.timeout_minutes },
      mounts: [
        { container: SANDBOX_PATHS.workspace, source: `staging copy of ${baseCommit ? baseCommit.slice(0, 7) : 'HEAD'} (git archive: no .git, no ignored files)`, mode: 'rw' },
        ...[...plan.scope.readonly, ...plan.scope.forbidden].map((g) => ({ container: `${SANDBOX_PATHS.workspace}/${g}`, source: 'overlay of the staging copy (where it exists)', mode: 'ro' as const })),
        { container: SANDBOX_PATHS.planDir, source: 'plan.json', mode: 'ro' },
        { container: SANDBOX_PATHS.outDir, source: 'result.json and the Worker\'s evidence', mode: 'rw' },
        { container: AGENT_PATHS.taskDir, source: 'worker.js, worker-task.json, replay.json', mode: 'ro' },
        { container: AGENT_PATHS.agentOut, source: 'the agent\'s own output', mode: 'rw' },
        { container: AGENT_PATHS.gatewayDir, source: 'the model gateway\'s Unix socket (the only way out)', mode: 'ro' },
      ],
    },
    gate: {
      runIn: config.gate.runIn,
      guards: preflightGuards(config.guards).map((g) => ({ name: g.name, command: g.command, timeoutSeconds: g.timeoutSeconds })),
      stages: config.gate.stages.map((s) => ({ name: s.name, command: s.command, timeoutSeconds: s.timeoutSeconds })),
    },
    adjust: {
      commit: config.git.commit,
      push: config.git.push,
      writes: ['the changeset (conflict-checked)', config.ssot.ledger, config.ssot.roadmap, `${config.paths.evidence}/${plan.run_id}/`, `${config.paths.autopilot}/history.jsonl`, `${config.paths.autopilot}/cost_summary_YYYYMM.json`],
    },
    configErrors,
  };
}

/** The dry run as the text `factory dry` prints and "Factory: Dry Run" shows. */
export function formatDryRun(d: DryRun): string {
  const argv = (c: readonly string[]) => c.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  const w = d.worker;
  const fallback = scopeFallbackLine(d.plan);
  return [
    `DRY RUN — nothing is written or started`,
    // Said first: `factory run` refuses this configuration before any Worker starts.
    ...(d.configErrors ?? []).map((e) => `CONFIG ERROR  ${e}`),
    ...(d.configErrors?.length ? ['          `factory run` refuses to start until .factory/config.json is fixed'] : []),
    // Said first: a ticket on the default scope is the likeliest cause of a scope-violation FAIL.
    ...(fallback ? [fallback, `          (${d.plan.scope_fallback?.why ?? ''})`] : []),
    `ticket    ${d.plan.ticket_id}: ${d.plan.ac_ids.join(', ')}  (run id ${d.plan.run_id})`,
    `risk      ${d.plan.risk_level}, model budget ${d.plan.model_budget}; Auditor ${d.auditor.called ? `called (${d.auditor.why})` : 'not called'}`,
    ...riskWhyLines(d.risk).map((l) => `          ${l}`),
    ...routingLines(d.plan).map((l, i) => `${i === 0 ? 'routing   ' : '          '}${l}`),
    `scope     modify ${d.plan.scope.modify.join(', ') || '(nothing)'}`,
    `          readonly ${d.plan.scope.readonly.join(', ') || '-'}`,
    `          forbidden ${d.plan.scope.forbidden.join(', ')}`,
    ...scopeReasonLines(d.plan, '          why '),
    `worker    ${d.plan.agent}${d.plan.model ? ` ${d.plan.model}` : ''} in ${w.image} as ${w.user}, network ${w.network}`,
    `limits    ${w.limits.memoryMb} MiB, ${w.limits.cpus} CPU, ${w.limits.pidsLimit} pids, tmpfs ${w.limits.tmpfsMb} MiB, workspace +${w.limits.workspaceMb} MiB, ${w.limits.timeMinutes} min`,
    `mounts`,
    ...w.mounts.map((m) => `          ${m.mode} ${m.container}  ← ${m.source}`),
    `kill      budget $${d.killSwitches.budgetUsd.toFixed(2)}/cycle, time ${d.killSwitches.timeMinutes} min, retries ${d.killSwitches.attempts}/${d.killSwitches.maxRetries}, consecutive FAILs ${d.killSwitches.consecutiveFails} (Auditor at ${d.killSwitches.escalateAfterFails})`,
    `gate      in ${d.gate.runIn}`,
    ...d.gate.guards.map((g) => `          guard ${g.name}: ${argv(g.command)} (${g.timeoutSeconds}s)`),
    ...d.gate.stages.map((s) => `          stage ${s.name}: ${argv(s.command)} (${s.timeoutSeconds}s)`),
    `adjust    on PASS writes ${d.adjust.writes.join(', ')}; ${d.adjust.commit ? 'one git commit' : 'no commit'}${d.adjust.push ? ' + push' : ''}`,
    '',
  ].join('\n');
}
