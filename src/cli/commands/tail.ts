import type { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HistoryEntry, HistoryLine } from '../../core/contracts/history-entry';
import type { CycleState } from '../../core/contracts/records';
import { printJson, runCommand } from '../io';

interface TailOptions {
  root: string;
  lines: string;
  follow?: boolean;
  json?: boolean;
}

/** One history entry as a line for people. */
function line(r: HistoryEntry): string {
  const reasons = r.reasons?.length ? `  — ${r.reasons.join('; ')}` : r.reason !== undefined ? `  — ${r.reason}` : '';
  const cost = r.costUsd !== undefined ? `$${r.costUsd.toFixed(4)}` : '';
  return `${(r.endedAt ?? '').slice(0, 19)}  ${r.status.padEnd(7)} ${r.ticketId.padEnd(10)} ${r.runId}  ${cost}${r.evidence !== undefined ? `  ${r.evidence}` : ''}${reasons}\n`;
}

/**
 * `factory tail [-n N] [--follow] [--json]`: the last cycles from history.jsonl and every cycle in
 * flight (its phase, from cycle_state.json and, in a parallel run, each slot's
 * cycle_state.<k>.json); `--follow` keeps printing new cycles and phase changes until interrupted.
 * `--json` prints JSON lines (`{type:'cycle'|'phase', …}`; a phase line names its slot).
 */
export function register(program: Command): void {
  program
    .command('tail')
    .description('Show the last cycles (history.jsonl) and the phase of every cycle in flight; --follow to keep watching')
    .option('--root <dir>', 'workspace root', process.cwd())
    .option('-n, --lines <n>', 'how many past cycles to show', '10')
    .option('-f, --follow', 'keep printing new cycles and phase changes')
    .option('--json', 'JSON lines')
    .action(async (opts: TailOptions) => {
      await runCommand(async (signal) => {
        const { loadConfigStrict } = await import('../../core/config/load');
        const { readHistory } = await import('../../core/history/history');
        const { listCycleStates } = await import('../../core/cycle/cycle-state');
        const { cyclePaths } = await import('../../core/cycle/orchestrator');
        const root = path.resolve(opts.root);
        const { config } = await loadConfigStrict(root);
        const p = cyclePaths(root, config);
        const n = Math.max(0, Number(opts.lines) || 0);
        const json = (value: Record<string, unknown>) => process.stdout.write(JSON.stringify(value) + '\n');
        const emitCycle = (r: HistoryLine) => (opts.json ? json({ type: 'cycle', ...r }) : process.stdout.write(line(r)));
        const emitPhase = (st: CycleState, slot: number) =>
          opts.json
            ? json({ type: 'phase', runId: st.runId, ticketId: st.ticketId, phase: st.phase, startedAt: st.startedAt, slot })
            : process.stdout.write(`${(slot > 0 ? `in flight #${slot}` : 'in flight').padEnd(19)}  ${st.phase.padEnd(7)} ${st.ticketId.padEnd(10)} ${st.runId}\n`);
        let seen = 0;
        // Each cycle in flight (one per slot of a parallel run) → the run and phase last printed.
        let lastPhase = new Map<number, string>();
        const poll = (initial: boolean) => {
          const h = readHistory(p.history);
          const fresh = h.records.slice(initial ? Math.max(0, h.records.length - n) : seen);
          seen = h.records.length;
          for (const r of fresh) emitCycle(r);
          const now = new Map<number, string>();
          for (const { slot, state: st } of listCycleStates(root, config.paths.autopilot)) {
            const key = `${st.runId}:${st.phase}`;
            if (lastPhase.get(slot) !== key) emitPhase(st, slot);
            now.set(slot, key);
          }
          lastPhase = now;
          if (initial && h.problems.length && !opts.json) for (const pr of h.problems) process.stderr.write(`history.jsonl line ${pr.line}: ${pr.kind}: ${pr.message}\n`);
        };
        if (!fs.existsSync(p.history) && !opts.follow && !listCycleStates(root, config.paths.autopilot).length) {
          if (opts.json) printJson({ cycles: [] });
          else process.stdout.write('no cycles yet\n');
          return 0;
        }
        poll(true);
        if (!opts.follow) return 0;
        await new Promise<void>((resolve) => {
          const timer = setInterval(() => poll(false), 500);
          signal.addEventListener('abort', () => {
            clearInterval(timer);
            resolve();
          }, { once: true });
        });
        return 0;
      });
    });
}
