import type { Command } from 'commander';
import * as path from 'node:path';
import { printJson, runCommand } from '../io';

/**
 * `factory stop [--json]`: stop the cycle in flight on this repository. The Controller that runs
 * it gets SIGTERM, so it stops its Worker, records the cycle ABORTED and releases the lock; if it
 * is gone (or does not finish within --wait seconds) its labelled containers are removed and the
 * next start records the cycle ABORTED. Exit 0 when something was stopped or nothing ran.
 */
export function register(program: Command): void {
  program
    .command('stop')
    .description('Stop the cycle in flight (the Controller aborts it; orphans are removed)')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('--wait <seconds>', 'how long to wait for the Controller to finish', '30')
    .option('--json', 'print one JSON object')
    .action(async (opts: { root: string; wait: string; json?: boolean }) => {
      await runCommand(async () => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { stopCycle } = await import('../../core/cycle/stop');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const out = await stopCycle(root, config, { waitMs: Math.max(0, Number(opts.wait) || 0) * 1000 });
        if (opts.json) printJson(out);
        else if (!out.runId) process.stdout.write('no cycle is running\n');
        else process.stdout.write(`stopped ${out.ticketId} run ${out.runId} (${out.phase})${out.finished ? ': the Controller recorded it ABORTED' : `: ${out.containersRemoved} container(s) removed; the next start records it ABORTED`}\n`);
        return 0;
      });
    });
}
