import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand } from '../io';

interface StopOptions {
  root: string;
  wait: string;
  run?: string;
  ticket?: string;
  json?: boolean;
}

/**
 * `factory stop [--run RUN_ID | --ticket T] [--json]`: stop the cycles in flight on this
 * repository — all of them (the default: the Controller gets SIGTERM, so it stops its Workers,
 * records the cycles ABORTED and releases the lock), or one of a parallel run (`--run`, `--ticket`:
 * a stop request the Controller turns into that cycle's abort; the others go on). A cycle whose
 * Controller is gone (or does not finish within --wait seconds) has its labelled containers
 * removed and the next start records it ABORTED. Exit 0 when something was stopped or nothing ran.
 */
export function register(program: Command): void {
  program
    .command('stop')
    .description('Stop the cycles in flight, or one of them (--run, --ticket); the Controller aborts it, orphans are removed')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--run <runId>', 'stop only this run (see `factory tail`); the other cycles go on')
    .option('--ticket <id>', 'stop only the cycle working on this ticket')
    .option('--wait <seconds>', 'how long to wait for the Controller to finish', '30')
    .option('--json', 'print one JSON object')
    .action(async (opts: StopOptions) => {
      await runCommand(async () => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { stopCycle } = await import('../../core/cycle/stop');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const select = { ...(opts.run !== undefined ? { runId: opts.run } : {}), ...(opts.ticket !== undefined ? { ticketId: opts.ticket } : {}) };
        const out = await stopCycle(root, config, { waitMs: Math.max(0, Number(opts.wait) || 0) * 1000, ...select });
        if (opts.json) {
          printJson(out);
          return 0;
        }
        if (!out.cycles.length) {
          const which = [opts.run && `run ${opts.run}`, opts.ticket && `ticket ${opts.ticket}`].filter(Boolean).join(', ');
          process.stdout.write(which ? `no cycle in flight matches ${which} (see \`factory tail\`)\n` : 'no cycle is running\n');
          return 0;
        }
        for (const c of out.cycles) {
          const end = c.finished ? 'the Controller recorded it ABORTED' : `${c.containersRemoved} container(s) removed; ${c.requested ? 'its Controller aborts it when it reads the stop request' : 'the next start records it ABORTED'}`;
          process.stdout.write(`stopped ${c.ticketId} run ${c.runId} (${c.phase}): ${end}\n`);
        }
        return 0;
      });
    });
}
