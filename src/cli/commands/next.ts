import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand } from '../io';

/**
 * `factory next [--json]`: what `factory run` would work on next — the ticket of the first OPEN
 * AC in ledger order (BLOCKED tickets skipped), the ACs batched with it, and its kill-switch
 * state (failed attempts, whether the Auditor will be called). Exit 0; the queue being empty is
 * not an error (`next: null`).
 */
export function register(program: Command): void {
  program
    .command('next')
    .description('The ticket and ACs the next cycle takes, with its retry count and escalation state')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--json', 'print one JSON object')
    .action(async (opts: { root: string; json?: boolean }) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { indexWorkspace } = await import('../../core/ssot/workspace');
        const { selectWork } = await import('../../core/plan/queue');
        const { cycleRecords, cyclePaths } = await import('../../core/cycle/orchestrator');
        const { evaluateKillSwitches } = await import('../../core/cycle/kill-switches');
        const { FactoryError } = await import('../../core/util/errors');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const index = await indexWorkspace(root, config, { signal });
        let work;
        try {
          work = selectWork(index);
        } catch (err) {
          if (err instanceof FactoryError && err.code === 'plan.queue-empty') {
            if (opts.json) printJson({ next: null, reason: err.message });
            else process.stdout.write(`${err.message}\n`);
            return 0;
          }
          throw err;
        }
        const ticketId = work.ticket?.id ?? work.acs[0]?.ticketId ?? '';
        const ks = evaluateKillSwitches(cycleRecords(cyclePaths(root, config).history), ticketId, config);
        const next = {
          ticketId,
          title: work.ticket?.title ?? null,
          status: work.ticket?.status ?? null,
          acs: work.acs.map((a) => ({ id: a.id, title: a.title, status: a.status })),
          attempts: ks.attempts,
          maxRetries: config.killSwitch.maxRetries,
          consecutiveFails: ks.consecutiveFails,
          auditorEscalation: ks.escalate,
        };
        if (opts.json) printJson({ next });
        else {
          process.stdout.write(
            [
              `Next  ${next.ticketId}${next.title ? ` — ${next.title}` : ''}${next.status ? ` (${next.status})` : ''}`,
              ...next.acs.map((a) => `      ${a.id}  ${a.title}`),
              `      attempts ${next.attempts}/${next.maxRetries}${next.auditorEscalation ? '; the Auditor will be called (2 consecutive FAILs)' : ''}`,
              '',
            ].join('\n'),
          );
        }
        return 0;
      });
    });
}
