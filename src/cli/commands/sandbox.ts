import type { Command } from 'commander';
import * as path from 'node:path';
import type { SandboxOptions } from '../../core/sandbox/run-sandbox';
import { printJson, runCommand, stderrLogger, stderrProgress } from '../io';
import { addAgentOptions, gatewayJson, runSandboxWithAgent, type AgentCliOptions } from '../agent-options';

/** Options of `factory sandbox` as commander parses them. */
export interface SandboxCliOptions extends AgentCliOptions {
  root: string;
  plan: string;
  image?: string;
  timeout?: string;
  apply?: boolean;
  json?: boolean;
  log?: string;
  history?: string;
  verbose?: boolean;
}

/**
 * `factory sandbox --root DIR --plan FILE [--image IMG] [--timeout SEC] [--apply] [--json] --
 * COMMAND [ARGS…]`: run COMMAND as the Worker over a staging copy of DIR with the plan's scope.
 * Exit 0 PASS, 1 FAIL or TIMEOUT, 2 bad input or ERROR, 3 another Controller holds the repo.
 * Without --apply the host is never written.
 */
export function register(program: Command): void {
  addAgentOptions(program.command('sandbox'))
    .description('Run a command as the Worker in the hardened sandbox over a staging copy, then check its changeset against the plan scope')
    .requiredOption('--root <dir>', 'the repository (its HEAD commit is exported)', process.cwd())
    .requiredOption('--plan <file>', 'plan.json whose scope applies')
    .option('--image <image>', 'Worker image', undefined)
    .option('--timeout <seconds>', 'time cap (default: the plan\'s timeout_minutes)')
    .option('--apply', 'apply a PASSing changeset to the host tree')
    .option('--log <file>', 'append the Worker\'s output to this file')
    .option('--history <file>', 'record the cycle (and an interrupted earlier one as ABORTED) in this history.jsonl')
    .option('--json', 'print one JSON object with the outcome')
    .option('-v, --verbose', 'log progress to stderr')
    .argument('[command...]', 'the Worker command and its arguments (after --); omit with --agent')
    .action(async (command: string[], opts: SandboxCliOptions) => {
      await runCommand(async (signal) => {
        const { runSandbox } = await import('../../core/sandbox/run-sandbox');
        const logger = stderrLogger(opts.verbose ?? false);
        const request = await buildSandboxRequest(command, opts);
        const deps = {
          logger,
          signal,
          progress: stderrProgress(),
          // Without --json the Worker's output streams through, as if run in a terminal.
          ...(opts.json ? {} : { onOutput: (s: 'stdout' | 'stderr', c: Buffer) => (s === 'stdout' ? process.stdout : process.stderr).write(c) }),
        };
        const agentRun = opts.agent ? await runSandboxWithAgent(request, opts, deps) : undefined;
        const report = agentRun?.sandbox ?? (await runSandbox(request, deps));
        if (process.stderr.isTTY) process.stderr.write('\n');
        if (opts.json) {
          printJson(agentRun ? { ...report, agent: agentRun.agent, outcome: agentRun.outcome, gateway: gatewayJson(agentRun.gateway) } : report);
        } else {
          const out = process.stdout;
          out.write(`sandbox: ${report.status}${report.exitCode !== null ? ` (exit ${report.exitCode})` : ''} — ${report.changeset.length} change(s), ${report.violations.length} violation(s), ${report.applied ? 'applied' : 'not applied'}\n`);
          for (const c of report.changeset) out.write(`  ${c.kind.padEnd(12)} ${JSON.stringify(c.path)}\n`);
          for (const v of report.violations) out.write(`  violation    ${JSON.stringify(v.path)}: ${v.rule}\n`);
          for (const r of report.reasons) out.write(`  ${r}\n`);
          if (agentRun) out.write(`  agent ${opts.agent}: ${agentRun.outcome}; gateway: ${agentRun.gateway.requests} request(s), ${agentRun.gateway.inputTokens} in / ${agentRun.gateway.outputTokens} out tokens, $${agentRun.gateway.costUsd.toFixed(4)} of $${agentRun.gateway.budgetUsd.toFixed(2)}${agentRun.gateway.refused ? `, ${agentRun.gateway.refused} refused` : ''}\n`);
        }
        if (report.reasons.some((r) => /another Controller/.test(r))) return 3;
        return report.status === 'PASS' ? 0 : report.status === 'ERROR' ? 2 : 1;
      });
    });
}

/**
 * The core request for a CLI invocation. Kept apart from the commander wiring so options (the
 * gateway's --agent/--upstream/--budget-usd) are one field each here.
 */
export async function buildSandboxRequest(command: string[], opts: SandboxCliOptions): Promise<SandboxOptions> {
  const { FactoryError } = await import('../../core/util/errors');
  const { planSchema } = await import('../../core/contracts/plan');
  const { readUntrustedJson, UntrustedJsonError } = await import('../../core/contracts/untrusted-json');
  if (command.length === 0 && !opts.agent) throw new FactoryError('no Worker command given (put it after --, or use --agent)', 'usage');
  if (command.length > 0 && opts.agent) throw new FactoryError('give either --agent or a Worker command, not both', 'usage');
  let plan;
  try {
    plan = readUntrustedJson(path.resolve(opts.plan), planSchema, 1024 * 1024, `plan ${opts.plan}`);
  } catch (err) {
    if (err instanceof UntrustedJsonError) throw new FactoryError(err.message, 'plan.invalid');
    throw err;
  }
  let timeoutMs: number | undefined;
  if (opts.timeout !== undefined) {
    const sec = Number(opts.timeout);
    if (!Number.isFinite(sec) || sec <= 0) throw new FactoryError(`--timeout must be a positive number of seconds, got "${opts.timeout}"`, 'usage');
    timeoutMs = Math.round(sec * 1000);
  }
  return {
    root: path.resolve(opts.root),
    plan,
    command,
    apply: opts.apply === true,
    ...(opts.image ? { image: opts.image } : {}),
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(opts.log ? { logFile: path.resolve(opts.log) } : {}),
    ...(opts.history ? { historyFile: path.resolve(opts.history) } : {}),
  };
}
