import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FactoryConfig } from '../config/schema';
import type { Plan } from '../contracts/plan';
import { indexWorkspace } from '../ssot/workspace';
import type { Logger } from '../util/log';
import { nullLogger } from '../util/log';
import type { WorkerTaskInput } from './task';

const RULES_MAX = 200_000;

/**
 * The Worker task's workspace part: the text of the plan's ACs (from the ledger and roadmaps), the
 * rules document (capped) and the configured gate stages. Missing documents give empty text and a
 * warning, never a failure: the plan is what binds the Worker.
 */
export async function taskFromWorkspace(root: string, config: FactoryConfig, plan: Plan, logger: Logger = nullLogger): Promise<Omit<WorkerTaskInput, 'schema_version' | 'agent'>> {
  let acs: Array<{ id: string; text: string }> = plan.ac_ids.map((id) => ({ id, text: '' }));
  try {
    const index = await indexWorkspace(root, config);
    // The ledger first (the queue), then ACs written in the roadmaps themselves.
    const all = [...index.ledger, ...index.tickets.flatMap((t) => t.acs)];
    acs = plan.ac_ids.map((id) => {
      const ac = all.find((a) => a.id === id) ?? all.find((a) => a.ticketId === plan.ticket_id && a.localId === id);
      return { id, text: ac ? [ac.title, ac.notes].filter((x) => x && x.trim()).join(' — ').slice(0, 20_000) : '' };
    });
  } catch (err) {
    logger.warn(`cannot read the SSOT documents for the prompt: ${err instanceof Error ? err.message : String(err)}`);
  }
  let rules = '';
  const rulesFile = path.join(root, config.ssot.rules);
  try {
    const st = fs.lstatSync(rulesFile);
    if (st.isFile()) rules = fs.readFileSync(rulesFile, 'utf8').slice(0, RULES_MAX);
  } catch {
    logger.warn(`no rules document at ${config.ssot.rules}: the prompt goes without it`);
  }
  return {
    acceptanceCriteria: acs,
    rules,
    rulesPath: config.ssot.rules,
    gate: { stages: config.gate.stages.map((s) => ({ name: s.name, command: s.command, timeoutSeconds: s.timeoutSeconds })) },
  };
}
