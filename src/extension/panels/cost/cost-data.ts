/**
 * The Cost dashboard's figures: the newest month's cost summary (by model, role, tier, per
 * accepted AC, spend per day by model), and spend per month, per ticket and per agent/model, from
 * history.jsonl (one record per cycle, authoritative; each role's spend on its own agent and
 * model) and the evidence runs history does not cover (their manifest's cost). No `vscode` here:
 * plain mocha tests it on real files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../../../core/config/schema';
import type { HistoryLine } from '../../../core/contracts/history-entry';
import { costSlices, monthOf, summarizeMonth, summaryRecords } from '../../../core/cycle/cost-summary';
import { readHistory } from '../../../core/history/history';
import type { CostBar, CostDashboard } from '../../../shared/protocol';
import { listRuns, regularFile } from '../run/run-snapshot';
import { monthCostView } from './month-cost';

/** One cycle's spend, whatever file it came from. */
export interface SpendItem {
  runId: string;
  ticketId: string;
  /** `YYYY-MM`. */
  month: string;
  agent: string;
  model: string;
  usd: number;
  /** The cycle's spend by agent and model (each role's own; one part for a line without `spend`). */
  parts: Array<{ agent: string; model: string; usd: number }>;
}

function monthOfRun(runId: string, iso: unknown): string {
  if (typeof iso === 'string') {
    const d = new Date(iso);
    if (!Number.isNaN(d.getTime())) return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  }
  const m = /^(\d{4})(\d{2})\d{2}_/.exec(runId);
  return m ? `${m[1]}-${m[2]}` : 'unknown';
}

const cost = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);
const text = (v: unknown, dflt: string): string => (typeof v === 'string' && v ? v.slice(0, 200) : dflt);

/** One part per agent and model (a role that spent twice on one model is one part). */
function mergeParts(parts: SpendItem['parts']): SpendItem['parts'] {
  const map = new Map<string, SpendItem['parts'][number]>();
  for (const p of parts) {
    const k = `${p.agent}\0${p.model}`;
    const e = map.get(k);
    map.set(k, e ? { ...e, usd: e.usd + p.usd } : { ...p });
  }
  return [...map.values()];
}

/** Every cycle's spend: history records first, then evidence runs history does not name. */
export function collectSpend(root: string, config: FactoryConfig, history: readonly HistoryLine[] = readHistory(path.join(root, config.paths.autopilot, 'history.jsonl')).records): { items: SpendItem[]; historyCycles: number; evidenceRuns: number } {
  const items: SpendItem[] = [];
  const seen = new Set<string>();
  for (const r of history) {
    seen.add(r.runId);
    const agent = text(r.agent, 'unknown agent');
    const model = text(r.model, 'unknown model');
    const slices = costSlices(summaryRecords([r])[0]);
    items.push({
      runId: r.runId,
      ticketId: text(r.ticketId, '(unknown)'),
      month: monthOfRun(r.runId, r.endedAt),
      agent,
      model,
      usd: cost(r.costUsd),
      parts: mergeParts(slices.map((x) => ({ agent: x.agent === 'unknown' ? agent : text(x.agent, agent), model: x.model === 'unknown' ? model : text(x.model, model), usd: x.usd }))),
    });
  }
  let evidenceRuns = 0;
  const evidenceDir = path.join(root, config.paths.evidence);
  for (const runId of listRuns(evidenceDir)) {
    if (seen.has(runId)) continue;
    const file = path.join(evidenceDir, runId, 'manifest.json');
    const st = regularFile(file);
    if (!st || st.size > 2 * 1024 * 1024) continue;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (!m || typeof m !== 'object') continue;
    evidenceRuns++;
    const worker = (m.worker && typeof m.worker === 'object' ? m.worker : {}) as Record<string, unknown>;
    items.push({
      runId,
      ticketId: text(m.ticket_id, '(unknown)'),
      month: monthOfRun(runId, m.timestamp),
      agent: text(m.agent ?? worker.agent, 'unknown agent'),
      model: text(worker.model, 'unknown model'),
      usd: cost(m.cost_usd),
      parts: [],
    });
    const last = items[items.length - 1];
    last.parts.push({ agent: last.agent, model: last.model, usd: last.usd });
  }
  return { items, historyCycles: history.length, evidenceRuns };
}

/** Groups spend into bars; `order` 'label' keeps chronological order (months), 'usd' puts the largest first. */
export function groupSpend(items: SpendItem[], key: (i: SpendItem) => string, order: 'label' | 'usd', limit: number): CostBar[] {
  const map = new Map<string, CostBar>();
  for (const i of items) {
    const k = key(i);
    const bar = map.get(k) ?? { label: k, usd: 0, cycles: 0 };
    bar.usd = Math.round((bar.usd + i.usd) * 1e6) / 1e6;
    bar.cycles++;
    map.set(k, bar);
  }
  const bars = [...map.values()];
  bars.sort(order === 'label' ? (a, b) => a.label.localeCompare(b.label) : (a, b) => b.usd - a.usd || a.label.localeCompare(b.label));
  return order === 'label' ? bars.slice(-limit) : bars.slice(0, limit);
}

/** The dashboard for the workspace at `root`. */
export function buildCostDashboard(root: string, config: FactoryConfig): CostDashboard {
  const history = readHistory(path.join(root, config.paths.autopilot, 'history.jsonl')).records;
  const { items, historyCycles, evidenceRuns } = collectSpend(root, config, history);
  // The newest month a cycle was recorded in: the month the summary file of the last cycle covers.
  const months = history.map((r) => (r.endedAt && !Number.isNaN(Date.parse(r.endedAt)) ? monthOf(r.endedAt) : '')).filter(Boolean).sort();
  const month = months.at(-1);
  const parts = items.flatMap((i) => i.parts.map((p) => ({ ...i, agent: p.agent, model: p.model, usd: p.usd })));
  const total = Math.round(items.reduce((a, i) => a + i.usd, 0) * 1e6) / 1e6;
  const priced = items.filter((i) => i.usd > 0).length;
  return {
    month: month ? monthCostView(summarizeMonth(summaryRecords(history), month)) : null,
    byMonth: groupSpend(items, (i) => i.month, 'label', 24),
    byTicket: groupSpend(items, (i) => i.ticketId, 'usd', 30),
    byAgentModel: groupSpend(parts, (i) => `${i.agent} / ${i.model}`, 'usd', 30),
    totalUsd: total,
    cycles: items.length,
    budgetPerCycleUsd: config.killSwitch.budgetUsd,
    sources: `${config.paths.autopilot}/history.jsonl (${historyCycles} cycles), ${evidenceRuns} further evidence run${evidenceRuns === 1 ? '' : 's'} under ${config.paths.evidence}/`,
    note: items.length === 0 ? 'No cycles recorded yet: the dashboard fills in as cycles run.' : priced === 0 ? 'No recorded cycle has a metered cost yet (seed or cached runs cost nothing).' : null,
  };
}
