import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand } from '../io';

/**
 * `factory dry [--ticket T] [--agent A] [--json]`: the next cycle's plan, mounts, limits, kill
 * switches and Gate commands, without writing or starting anything. Exit 0, 2 on bad input.
 */
export function register(program: Command): void {
  program
    .command('dry')
    .description('Show the next cycle (plan, mounts, limits, kill switches, Gate commands) without starting anything')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--ticket <id>', 'plan this ticket instead of the queue\'s next one')
    .option('--agent <name>', 'agent override')
    .option('--json', 'print one JSON object')
    .action(async (opts: { root: string; ticket?: string; agent?: string; json?: boolean }) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { dryRun } = await import('../../core/cycle/dry-run');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const d = await dryRun(root, config, { ...(opts.ticket ? { ticket: opts.ticket } : {}), ...(opts.agent ? { agent: opts.agent } : {}), signal });
        if (opts.json) {
          printJson(d);
          return 0;
        }
        const argv = (c: string[]) => c.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
        const w = d.worker;
        process.stdout.write(
          [
            `DRY RUN — nothing is written or started`,
            `ticket    ${d.plan.ticket_id}: ${d.plan.ac_ids.join(', ')}  (run id ${d.plan.run_id})`,
            `risk      ${d.plan.risk_level}, model budget ${d.plan.model_budget}; Auditor ${d.auditor.called ? `called (${d.auditor.why}; agent ${d.auditor.agent})` : 'not called'}`,
            `scope     modify ${d.plan.scope.modify.join(', ') || '(nothing)'}`,
            `          readonly ${d.plan.scope.readonly.join(', ') || '-'}`,
            `          forbidden ${d.plan.scope.forbidden.join(', ')}`,
            `worker    ${d.plan.agent} in ${w.image} as ${w.user}, network ${w.network}`,
            `limits    ${w.limits.memoryMb} MiB, ${w.limits.cpus} CPU, ${w.limits.pidsLimit} pids, tmpfs ${w.limits.tmpfsMb} MiB, workspace +${w.limits.workspaceMb} MiB, ${w.limits.timeMinutes} min`,
            `mounts`,
            ...w.mounts.map((m) => `          ${m.mode} ${m.container}  ← ${m.source}`),
            `kill      budget $${d.killSwitches.budgetUsd.toFixed(2)}/cycle, time ${d.killSwitches.timeMinutes} min, retries ${d.killSwitches.attempts}/${d.killSwitches.maxRetries}, consecutive FAILs ${d.killSwitches.consecutiveFails} (Auditor at ${d.killSwitches.escalateAfterFails})`,
            `gate      in ${d.gate.runIn}`,
            ...d.gate.guards.map((g) => `          guard ${g.name}: ${argv(g.command)} (${g.timeoutSeconds}s)`),
            ...d.gate.stages.map((s) => `          stage ${s.name}: ${argv(s.command)} (${s.timeoutSeconds}s)`),
            `adjust    on PASS writes ${d.adjust.writes.join(', ')}; ${d.adjust.commit ? 'one git commit' : 'no commit'}${d.adjust.push ? ' + push' : ''}`,
            '',
          ].join('\n'),
        );
        return 0;
      });
    });
}
