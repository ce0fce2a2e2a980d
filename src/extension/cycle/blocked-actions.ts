/**
 * The BLOCKED hand-off's words and choices (issue 20), without `vscode`: the notification's text and
 * actions, the agent and model picks of "Retry with another agent/model", the run options of the
 * retry, and where its evidence README is. blocked-handoff.ts shows them; plain mocha tests them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AGENT_NAMES } from '../../core/config/agent-names';
import type { FactoryConfig } from '../../core/config/schema';
import type { ReviewFeedback } from '../../core/contracts/review-feedback';
import type { CycleOptions, CycleOutcome } from '../../core/cycle/cycle-types';
import { AUTOMATIC, modelChoices } from './run-settings';

export const RETRY_ACTION = 'Retry with another agent/model';
export const EVIDENCE_ACTION = 'Open evidence';
export const EDIT_ACTION = 'Edit ticket';
export const BLOCKED_ACTIONS = [RETRY_ACTION, EVIDENCE_ACTION, EDIT_ACTION] as const;
export type BlockedAction = (typeof BLOCKED_ACTIONS)[number];

/** The retry of a BLOCKED ticket, as "Run" takes it: the Worker picked and the feedback (why it was blocked). */
export interface RetryRequest {
  retry?: { agent?: string; model?: string; feedback?: ReviewFeedback };
}

/** Whether a cycle's end left its ticket BLOCKED (a kill switch fired, or it ended BLOCKED at PLAN). */
export function isBlocked(o: Pick<CycleOutcome, 'blocked' | 'status'>): boolean {
  return o.blocked || o.status === 'BLOCKED';
}

/** The reason the cycle gave for the block (`ticket T set BLOCKED: reason`), else its first reason. */
export function blockReason(o: Pick<CycleOutcome, 'ticketId' | 'reasons'>): string {
  const prefix = `ticket ${o.ticketId} set BLOCKED: `;
  const set = o.reasons.find((r) => r.startsWith(prefix));
  return (set ? set.slice(prefix.length) : o.reasons[0]) ?? 'no reason recorded';
}

/** The notification: the ticket, the reason, what the person can do. */
export function blockedMessage(o: Pick<CycleOutcome, 'ticketId' | 'reasons'>, lastFailure?: string): string {
  const reason = blockReason(o);
  const last = lastFailure && !reason.includes(lastFailure) ? ` (last: ${lastFailure})` : '';
  return `Factory: ${o.ticketId} is BLOCKED — ${reason}${last}. Retry it on another agent or model (the evidence and the Auditor's findings go with it), open the evidence, or edit the ticket.`;
}

export interface PickItem {
  label: string;
  value: string;
  description?: string;
}

/** The agent pick: Automatic (the routing table, or the window's own choice) first, then every agent; the last run's marked. */
export function agentItems(last?: string | null): PickItem[] {
  return [
    { label: AUTOMATIC, value: '', description: 'the routing table (one tier up after each FAIL), or the window\'s Worker choice' },
    ...AGENT_NAMES.map((a) => ({ label: a, value: a, ...(a === last ? { description: 'the blocked attempts ran this one' } : {}) })),
  ];
}

/** The model pick for `agent`: Automatic first, then the routing table's tiers and priced models; the last run's marked. */
export function modelItems(config: Pick<FactoryConfig, 'routing' | 'prices'>, agent: string | undefined, last?: string | null): PickItem[] {
  return [
    { label: AUTOMATIC, value: '', description: 'the routed tier\'s model' },
    ...modelChoices(config, agent).map((m) => ({ label: m.model, value: m.model, description: [m.model === last ? 'the blocked attempts ran this one' : '', m.tier, m.source].filter(Boolean).join(' · ') })),
  ];
}

/** The run options a retry adds to "Run": the Worker override (recorded as the hand-off's) and the feedback. */
export function retryOptions(r: RetryRequest): Partial<Pick<CycleOptions, 'agent' | 'model' | 'overrideSource' | 'feedback'>> {
  if (!r.retry) return {};
  const { agent, model, feedback } = r.retry;
  const parts = [agent ? `agent ${agent}` : '', model ? `model ${model}` : ''].filter(Boolean);
  return {
    ...(agent ? { agent } : {}),
    ...(model ? { model } : {}),
    ...(parts.length ? { overrideSource: `the BLOCKED hand-off's "${RETRY_ACTION}" (${parts.join(', ')})` } : {}),
    ...(feedback ? { feedback } : {}),
  };
}

/**
 * The evidence file to open: the run's README.md (else its error.log, else the folder's first
 * file), only a regular file inside `<root>/<evidence folder>` (no symlink); undefined otherwise.
 */
export function evidenceFile(root: string, evidenceRel: string, evidencePath: string | null): string | undefined {
  if (!evidencePath) return undefined;
  const base = path.resolve(root, evidenceRel);
  const dir = path.resolve(root, evidencePath);
  if (!dir.startsWith(base + path.sep)) return undefined;
  for (const name of ['README.md', 'error.log', 'manifest.json']) {
    const file = path.join(dir, name);
    if (fs.lstatSync(file, { throwIfNoEntry: false })?.isFile()) return file;
  }
  return undefined;
}
