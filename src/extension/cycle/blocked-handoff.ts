/**
 * BLOCKED is not a dead end (issue 20): when a cycle ends with its ticket BLOCKED, a notification
 * names the ticket and the reason and offers "Retry with another agent/model" (agent and model
 * picks, a confirmation, then `unblockForRetry` — roadmap back to OPEN in its own commit, the kill
 * switches counting afresh — and a Run of that ticket with that Worker and, as its review feedback,
 * the evidence summary and the Auditor's findings), "Open evidence" (the run's README) and "Edit
 * ticket" (the roadmap at its row). The words and choices are blocked-actions.ts.
 */
import * as vscode from 'vscode';
import { loadConfigStrict } from '../../core/config/load';
import type { FactoryConfig } from '../../core/config/schema';
import { blockedTickets } from '../../core/cycle/blocked-summary';
import type { CycleOutcome } from '../../core/cycle/cycle-types';
import { unblockForRetry } from '../../core/cycle/unblock';
import { errorMessage } from '../../core/util/errors';
import type { ExtensionDeps } from '../deps';
import { agentItems, blockedMessage, blockReason, EDIT_ACTION, evidenceFile, EVIDENCE_ACTION, modelItems, RETRY_ACTION, type BlockedAction, type RetryRequest } from './blocked-actions';

export { isBlocked, retryOptions, type RetryRequest } from './blocked-actions';

/** Starts the retry's run ("Factory: Run" of one ticket with the retry's Worker and feedback). */
export type RetryRun = (ticket: string, start: RetryRequest) => Promise<unknown>;

const CONFIRM = 'Unblock and Retry';

export class BlockedHandoff {
  constructor(
    private readonly deps: ExtensionDeps,
    private readonly run: RetryRun,
  ) {}

  private async config(root: string): Promise<FactoryConfig> {
    const s = this.deps.store.state;
    return s.kind === 'ready' && s.root.fsPath === root ? s.config : (await loadConfigStrict(root)).config;
  }

  /** The notification for a cycle that left its ticket BLOCKED; resolves with what the person chose and did. */
  async offer(root: string, o: CycleOutcome): Promise<{ action: BlockedAction | undefined; result?: unknown }> {
    const config = await this.config(root);
    let lastFailure: string | undefined;
    try {
      lastFailure = blockedTickets(root, config, [{ id: o.ticketId, title: '', status: 'BLOCKED', blockedReason: blockReason(o) }])[0]?.failing[0];
    } catch (err) {
      this.deps.log.warn(`BLOCKED ${o.ticketId}: could not read why (${errorMessage(err)})`);
    }
    this.deps.log.warn(`${o.ticketId} BLOCKED: ${blockReason(o)}`);
    const action = await vscode.window.showWarningMessage<BlockedAction>(blockedMessage(o, lastFailure), RETRY_ACTION, EVIDENCE_ACTION, EDIT_ACTION);
    if (action === RETRY_ACTION) {
      const worker = o.spend?.find((s) => s.role === 'worker');
      return { action, result: await this.retry(root, o.ticketId, { agent: worker?.agent ?? null, model: worker?.model ?? null }) };
    }
    if (action === EVIDENCE_ACTION) {
      const file = evidenceFile(root, config.paths.evidence, o.evidencePath);
      if (file) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
      else void vscode.window.showInformationMessage(`Factory: run ${o.runId} left no evidence to open; its history line in ${config.paths.autopilot}/history.jsonl says why.`);
      return { action, result: file };
    }
    if (action === EDIT_ACTION) await vscode.commands.executeCommand('factory.roadmap.reveal', o.ticketId);
    return { action };
  }

  /**
   * "Retry with another agent/model": pick the agent and the model, confirm, unblock (its own
   * commit), then run the ticket with that Worker and why it was blocked as its review feedback.
   */
  async retry(root: string, ticket: string, last: { agent: string | null; model: string | null } = { agent: null, model: null }): Promise<unknown> {
    const config = await this.config(root);
    const agent = await vscode.window.showQuickPick(agentItems(last.agent), { title: `Factory: retry ${ticket} — Worker agent`, placeHolder: `Which agent runs the retry of BLOCKED ${ticket}?${last.agent ? ` (the blocked attempts ran ${last.agent})` : ''}` });
    if (!agent) return { cancelled: true };
    const model = await vscode.window.showQuickPick(modelItems(config, agent.value || undefined, last.model), { title: `Factory: retry ${ticket} — Worker model`, placeHolder: `Which model?${last.model ? ` (the blocked attempts ran ${last.model})` : ''}`, matchOnDescription: true });
    if (!model) return { cancelled: true };
    const on = [agent.value || 'the routed agent', model.value || 'the routed model'].join(' / ');
    const ok = await vscode.window.showWarningMessage(
      `Unblock ${ticket} and run it again on ${on}?`,
      { modal: true, detail: `Its roadmap status goes back to OPEN in a commit of its own, its retry count starts afresh, and the evidence summary and the Auditor's findings go to the Worker as review comments.` },
      CONFIRM,
    );
    if (ok !== CONFIRM) return { cancelled: true };
    try {
      const start = await unblockForRetry({ root, config, ticket, by: `the editor's "${RETRY_ACTION}"`, retry: { ...(agent.value ? { agent: agent.value } : {}), ...(model.value ? { model: model.value } : {}) }, logger: this.deps.log });
      this.deps.log.info(start.unblock.changed ? `${ticket}: ${start.unblock.from} → ${start.unblock.to}${start.unblock.commit ? ` (commit ${start.unblock.commit.slice(0, 7)})` : ''}` : `${ticket} was not BLOCKED any more (${start.unblock.from}); running it as it is`);
      void this.deps.store.refresh();
      return await this.run(ticket, { retry: { ...(agent.value ? { agent: agent.value } : {}), ...(model.value ? { model: model.value } : {}), ...(start.feedback ? { feedback: start.feedback } : {}) } });
    } catch (err) {
      this.deps.log.error(`Retry ${ticket}: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(`Factory: could not unblock ${ticket}: ${errorMessage(err)}`, 'Show Log').then((c) => c && this.deps.log.show());
      return { error: errorMessage(err) };
    }
  }
}
