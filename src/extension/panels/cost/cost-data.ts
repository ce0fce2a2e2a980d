/**
 * The Cost dashboard's figures: spend per month, per ticket and per agent/model, from
 * history.jsonl (one record per cycle, authoritative) and the evidence runs history does not
 * cover (their manifest's cost). No `vscode` here: plain mocha tests it on real files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../../../core/config/schema';
import { readHistory } from '../../../core/history/history';
import type { CostBar, CostDashboard } from '../../../shared/protocol';
import { listRuns, regularFile } from '../run/run-snapshot';

/** One cycle's spend, whatever file it came from. */
export interface SpendItem {
  runId: string;
  ticketId: string;
  /** `YYYY-MM`. */
  month: string;
  agent: string;
  model: string;
  usd: number;
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

/** Every cycle's spend: history records first, then evidence runs history does not name. */
export function collectSpend(root: string, config: FactoryConfig): { items: SpendItem[]; historyCycles: number; evidenceRuns: number } {
  const items: SpendItem[] = [];
  const seen = new Set<string>();
  const history = readHistory(path.join(root, config.paths.autopilot, 'history.jsonl'));
  for (const r of history.records) {
    seen.add(r.runId);
    items.push({
      runId: r.runId,
      ticketId: text(r.ticketId, '(unknown)'),
      month: monthOfRun(r.runId, r.endedAt),
      agent: text(r.agent, 'unknown agent'),
      model: text(r.model, 'unknown model'),
      usd: cost(r.costUsd),
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
    });
  }
  return { items, historyCycles: history.records.length, evidenceRuns };
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
  const { items, historyCycles, evidenceRuns } = collectSpend(root, config);
  const total = Math.round(items.reduce((a, i) => a + i.usd, 0) * 1e6) / 1e6;
  const priced = items.filter((i) => i.usd > 0).length;
  return {
    byMonth: groupSpend(items, (i) => i.month, 'label', 24),
    byTicket: groupSpend(items, (i) => i.ticketId, 'usd', 30),
    byAgentModel: groupSpend(items, (i) => `${i.agent} / ${i.model}`, 'usd', 30),
    totalUsd: total,
    cycles: items.length,
    budgetPerCycleUsd: config.killSwitch.budgetUsd,
    sources: `${config.paths.autopilot}/history.jsonl (${historyCycles} cycles), ${evidenceRuns} further evidence run${evidenceRuns === 1 ? '' : 's'} under ${config.paths.evidence}/`,
    note: items.length === 0 ? 'No cycles recorded yet: the dashboard fills in as cycles run.' : priced === 0 ? 'No recorded cycle has a metered cost yet (seed or cached runs cost nothing).' : null,
  };
}
