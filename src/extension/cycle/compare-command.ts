import * as vscode from 'vscode';
import { AGENT_NAMES } from '../../core/config/agent-names';
import type { FactoryConfig } from '../../core/config/schema';
import type { ExtensionDeps } from '../deps';
import { comparePicker } from './compare-picker';
import { sideSpec, sidesProblem } from './compare-rows';
import type { FactoryRunner } from './factory-runner';
import { modelChoices } from './run-settings';

const ROUTED = 'Routed model';

/** One side: an agent, then its model (the routed one, or one of the models the agent speaks). Undefined: dismissed. */
async function pickSide(config: FactoryConfig, which: string, other?: string): Promise<string | undefined> {
  const agent = await vscode.window.showQuickPick(
    AGENT_NAMES.map((a) => ({ label: a, description: other && other.split(':')[0] === a ? `also side A (${other}): pick another model next` : '' })),
    { title: `Factory: Run With Two Agents — ${which}`, placeHolder: 'Which agent runs this side?', ignoreFocusOut: true },
  );
  if (!agent) return undefined;
  const model = await vscode.window.showQuickPick(
    [{ label: ROUTED, value: '', description: 'the model the routing table gives this ticket' }, ...modelChoices(config, agent.label).map((m) => ({ label: m.model, value: m.model, description: [m.tier, m.source].filter(Boolean).join(' · ') }))],
    { title: `Factory: Run With Two Agents — ${which}: ${agent.label}'s model`, placeHolder: 'Which model?', ignoreFocusOut: true, matchOnDescription: true },
  );
  return model ? sideSpec(agent.label, model.value || undefined) : undefined;
}

/**
 * "Factory: Run With Two Agents…" (issue 20): the ticket's plan on two agents (or one agent on two
 * models) in separate sandboxes, both through the same Gate and Auditor; the person picks which
 * changeset is applied (compare-picker.ts). Returns the run's answer, or `{ cancelled: true }`.
 */
export async function compareCommand(deps: ExtensionDeps, runner: FactoryRunner, ticket: string) {
  const ws = await runner.ready('Run With Two Agents');
  if ('refused' in ws) return ws;
  const a = await pickSide(ws.config, 'side A');
  if (!a) return { cancelled: true };
  const b = await pickSide(ws.config, 'side B', a);
  if (!b) return { cancelled: true };
  const problem = sidesProblem(a, b);
  if (problem) {
    void vscode.window.showWarningMessage(`Factory: Run With Two Agents: ${problem}.`);
    return { error: problem };
  }
  deps.log.info(`compare: ${ticket} on ${a} and ${b}`);
  // Stop Worker (or Cancel) while the pick is open closes it: nothing is applied.
  return runner.runCycle(ticket, { compare: { agents: [a, b], pick: 'ask' }, picker: (signal) => comparePicker(runner.reviewer, ws.root, ticket, signal, deps.log) });
}
