import type { Command } from 'commander';
import * as os from 'node:os';
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
        const { readCycleState } = await import('../../core/cycle/cycle-state');
        const { cyclePaths } = await import('../../core/cycle/orchestrator');
        const { connectDocker } = await import('../../core/docker/connect');
        const { LABELS } = await import('../../core/sandbox/container');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const p = cyclePaths(root, config);
        const st = readCycleState(p.state);
        const out = { runId: st?.runId ?? null, ticketId: st?.ticketId ?? null, phase: st?.phase ?? null, signalled: false, finished: false, containersRemoved: 0 };
        if (!st) {
          if (opts.json) printJson(out);
          else process.stdout.write('no cycle is running\n');
          return 0;
        }
        const i = st.owner.lastIndexOf(':');
        const pid = Number(st.owner.slice(i + 1));
        if (st.owner.slice(0, i) === os.hostname() && Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
          try {
            process.kill(pid, 'SIGTERM');
            out.signalled = true;
          } catch {
            // the Controller is already gone
          }
        }
        const deadline = Date.now() + Math.max(0, Number(opts.wait) || 0) * 1000;
        while (out.signalled && Date.now() < deadline && readCycleState(p.state)?.runId === st.runId) await new Promise((r) => setTimeout(r, 200));
        out.finished = readCycleState(p.state)?.runId !== st.runId;
        if (!out.finished) {
          const { docker } = await connectDocker();
          const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.runId}=${st.runId}`] } });
          for (const c of list) {
            await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
            out.containersRemoved++;
          }
        }
        if (opts.json) printJson(out);
        else process.stdout.write(`stopped ${st.ticketId} run ${st.runId} (${st.phase})${out.finished ? ': the Controller recorded it ABORTED' : `: ${out.containersRemoved} container(s) removed; the next start records it ABORTED`}\n`);
        return 0;
      });
    });
}
