import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { dryRun, formatDryRun } from '../../core/cycle/dry-run';
import { writePlan } from '../../core/cycle/write-plan';
import { loadEvidenceIndex } from '../../core/evidence/run-index';
import { validateEvidence } from '../../core/evidence/validator';
import { runIdSchema } from '../../shared/protocol';
import { computeStatus } from '../../core/ssot/status';
import { errorMessage } from '../../core/util/errors';
import { readRunSettings, type FactoryRunner } from '../cycle/factory-runner';
import { AGENT_NAMES } from '../../core/config/agent-names';
import { agentsInUse, AUTOMATIC, modelChoices } from '../cycle/run-settings';
import { sourceFromArg, ticketFromArg } from '../cycle/ticket-arg';
import type { ExtensionDeps } from '../deps';
import { buildImageTask } from './build-image';
import { setParallelCommand } from './parallel-command';
import { compareCommand } from '../cycle/compare-command';

/**
 * The ticket a command acts on: the row it was invoked on, else a Quick Pick of the roadmap's
 * tickets (the queue's next first). Undefined when the user dismisses the pick.
 */
async function pickTicket(deps: ExtensionDeps, arg: unknown, title: string): Promise<string | undefined> {
  const fromArg = ticketFromArg(arg);
  if (fromArg) return fromArg;
  const s = deps.store.state;
  if (s.kind !== 'ready') return undefined;
  const next = computeStatus(s.index).next?.ticketId;
  const tickets = [...s.index.tickets].sort((a, b) => (a.id === next ? -1 : b.id === next ? 1 : 0));
  const pick = await vscode.window.showQuickPick(
    tickets.map((t) => ({ label: t.id, description: `${t.status}${t.id === next ? ' · next in queue' : ''}`, detail: t.title })),
    { title: `Factory: ${title}`, placeHolder: 'Which ticket?', matchOnDescription: true, matchOnDetail: true },
  );
  return pick?.label;
}

/** Show read-only text in an editor (dry run, plan summaries). */
async function showText(content: string, language: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content, language });
  await vscode.window.showTextDocument(doc, { preview: true });
}

/**
 * The cycle's commands (issue 7): Run, Run This Ticket, Dry Run, Build plan.json, Audit, Stop
 * Worker, Run Gate, Run DocOps, Build Worker Image, Review / Approve / Reject Changeset, Open in
 * Roadmap, Open Evidence. Each returns its result (or the refusal) so tests and other
 * extensions can drive them; the user sees notifications.
 */
export function registerCycleCommands(context: vscode.ExtensionContext, deps: ExtensionDeps, runner: FactoryRunner): void {
  const reg = (d: vscode.Disposable) => context.subscriptions.push(d);

  reg(vscode.commands.registerCommand('factory.cycle.run', (arg?: unknown) => runner.runCycle(ticketFromArg(arg))));
  reg(vscode.commands.registerCommand('factory.cycle.runTicket', async (arg?: unknown) => {
    const ticket = await pickTicket(deps, arg, 'Run This Ticket');
    return ticket ? runner.runCycle(ticket) : undefined;
  }));
  reg(vscode.commands.registerCommand('factory.cycle.dryRun', (arg?: unknown) => dryRunCommand(runner, arg)));
  reg(vscode.commands.registerCommand('factory.plan.build', (arg?: unknown) => buildPlanCommand(deps, runner, arg)));
  reg(vscode.commands.registerCommand('factory.auditor.run', async (arg?: unknown) => {
    const ticket = await pickTicket(deps, arg, 'Audit');
    return ticket ? runner.audit(ticket) : undefined;
  }));
  // A Runs row (a cycle in flight) names the one to stop; none: all, or a pick when several run.
  reg(vscode.commands.registerCommand('factory.worker.stop', (arg?: unknown) => runner.stop(arg)));
  reg(vscode.commands.registerCommand('factory.parallel.set', (value?: unknown) => setParallelCommand(runner, value)));
  reg(vscode.commands.registerCommand('factory.gate.run', (stage?: unknown) => runner.gate(typeof stage === 'string' && /^[\w.-]{1,64}$/.test(stage) ? stage : undefined)));
  reg(vscode.commands.registerCommand('factory.docops.run', () => runner.docops()));
  reg(vscode.commands.registerCommand('factory.image.build', () => buildImageCommand(context, runner)));
  reg(vscode.commands.registerCommand('factory.worker.choose', () => chooseWorkerCommand(runner)));

  reg(vscode.commands.registerCommand('factory.changeset.review', () => reviewChangesetCommand(runner)));
  reg(vscode.commands.registerCommand('factory.changeset.approve', () => ({ approved: runner.reviewer.approve() })));
  reg(vscode.commands.registerCommand('factory.changeset.requestChanges', async (comment?: unknown) => ({ requested: await runner.reviewer.requestChanges(typeof comment === 'string' ? comment : undefined) })));
  reg(vscode.commands.registerCommand('factory.cycle.compare', async (arg?: unknown) => {
    const ticket = await pickTicket(deps, arg, 'Run With Two Agents');
    return ticket ? compareCommand(deps, runner, ticket) : undefined;
  }));
  reg(vscode.commands.registerCommand('factory.changeset.reject', async (reason?: unknown) => ({ rejected: typeof reason === 'string' ? runner.reviewer.reject(reason) : await runner.reviewer.rejectAsking() })));

  reg(vscode.commands.registerCommand('factory.roadmap.reveal', (arg?: unknown) => revealInRoadmapCommand(deps, arg)));
  reg(vscode.commands.registerCommand('factory.evidence.check', (arg?: unknown) => checkEvidenceCommand(deps, arg)));
  reg(vscode.commands.registerCommand('factory.evidence.open', (arg?: unknown) => openEvidenceCommand(deps, arg)));
}

/** Dry Run: the plan a cycle would make, shown as text. */
async function dryRunCommand(runner: FactoryRunner, arg: unknown) {
  // Nothing is written or started, but planning runs git in the folder: trusted folders only.
  const ws = await runner.ready('Dry Run', false);
  if ('refused' in ws) return ws;
  const ticket = ticketFromArg(arg);
  try {
    const d = await dryRun(ws.root, ws.config, { ...(ticket ? { ticket } : {}) });
    await showText(formatDryRun(d), 'plaintext');
    return d;
  } catch (err) {
    void vscode.window.showErrorMessage(`Factory: Dry Run: ${errorMessage(err)}`);
    return { error: errorMessage(err) };
  }
}

/** Build plan.json: write it and open it. */
async function buildPlanCommand(deps: ExtensionDeps, runner: FactoryRunner, arg: unknown) {
  // Writing plan.json runs no project code, but it changes the repo: trusted folders only.
  const ws = await runner.ready('Build plan.json');
  if ('refused' in ws) return ws;
  const ticket = ticketFromArg(arg);
  try {
    const { built, file } = await writePlan(ws.root, ws.config, { ...(ticket ? { ticket } : {}), logger: deps.log });
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
    return built.plan;
  } catch (err) {
    void vscode.window.showErrorMessage(`Factory: Build plan.json: ${errorMessage(err)}`);
    return { error: errorMessage(err) };
  }
}

/** Build Worker Image: a VS Code task, so the build's output shows in the terminal. */
async function buildImageCommand(context: vscode.ExtensionContext, runner: FactoryRunner) {
  const ws = await runner.ready('Build Worker Image');
  if ('refused' in ws) return ws;
  // Every agent a cycle may run: the window's or the config's override, else all the routing table can pick (Worker and Auditor).
  const agents = agentsInUse(readRunSettings(ws.root), ws.config);
  const task = buildImageTask(context.extensionUri.fsPath, ws.config.worker.image, ws.root, [...agents.worker, ...agents.auditor]);
  const exec = await vscode.tasks.executeTask(new vscode.Task({ type: 'factory', kind: 'image' }, vscode.TaskScope.Workspace, task.name, 'Factory', new vscode.ProcessExecution(task.command, task.args, { cwd: task.cwd })));
  return { task: task.name, command: [task.command, ...task.args], started: !!exec };
}

/**
 * Choose Worker Agent and Model: two Quick Picks over `factory.agent` and `factory.model`, each
 * with "Automatic (routing table)" (no override) first; a chosen agent or model is passed to the
 * cycle as an override the plan records. Saved in the user's settings (not the repository's).
 */
async function chooseWorkerCommand(runner: FactoryRunner) {
  const ws = await runner.ready('Choose Worker Agent and Model', false);
  if ('refused' in ws) return ws;
  const current = readRunSettings(ws.root);
  const mark = (on: boolean) => (on ? '$(check) ' : '');
  const agentPick = await vscode.window.showQuickPick(
    [{ label: `${mark(!current.agent)}${AUTOMATIC}`, value: '', description: 'risk level → routing.tiers / routing.levels' }, ...AGENT_NAMES.map((a) => ({ label: `${mark(current.agent === a)}${a}`, value: a, description: 'every ticket, recorded as an override' }))],
    { title: 'Factory: Worker agent', placeHolder: 'Which agent runs the Worker? (saved in your user settings)' },
  );
  if (!agentPick) return { changed: false };
  const models = modelChoices(ws.config, agentPick.value || undefined);
  const other = { label: '$(edit) Other model…', value: '\0other', description: 'a model id of your own (it needs a price in .factory/config.json → prices)' };
  const modelPick = await vscode.window.showQuickPick(
    [{ label: `${mark(!current.model)}${AUTOMATIC}`, value: '', description: 'the routed tier\'s model' }, ...models.map((m) => ({ label: `${mark(current.model === m.model)}${m.model}`, value: m.model, description: [m.tier, m.source].filter(Boolean).join(' · ') })), other],
    { title: 'Factory: Worker model', placeHolder: 'Which model does the Worker use?', matchOnDescription: true },
  );
  if (!modelPick) return { changed: false };
  const model = modelPick.value === other.value ? (await vscode.window.showInputBox({ title: 'Factory: Worker model', prompt: 'Model id', validateInput: (v) => (/^[\w.:/@-]{1,200}$/.test(v.trim()) ? undefined : 'letters, digits and . _ : / @ - only') }))?.trim() : modelPick.value;
  if (model === undefined) return { changed: false };
  const c = vscode.workspace.getConfiguration('factory', vscode.Uri.file(ws.root));
  await c.update('agent', agentPick.value || undefined, vscode.ConfigurationTarget.Global);
  await c.update('model', model || undefined, vscode.ConfigurationTarget.Global);
  const after = readRunSettings(ws.root);
  const shadowed = after.agent !== (agentPick.value || undefined) || after.model !== (model || undefined);
  void vscode.window.showInformationMessage(`Factory: Worker ${agentPick.value || 'agent automatic'} · ${model || 'model automatic'}${shadowed ? ' — but this workspace\'s settings set factory.agent / factory.model, which win' : ''}.`);
  return { changed: true, agent: after.agent ?? null, model: after.model ?? null };
}

/** Review Changeset: the pending review, or the kept staging copy of this window's last run. */
async function reviewChangesetCommand(runner: FactoryRunner) {
  const subject = runner.reviewSubject();
  if (!subject) {
    void vscode.window.showInformationMessage('Factory: no changeset to review. Turn on "factory.review.requireApproval" to review every Worker\'s changes before they are applied; after a FAIL, the kept staging copy of this window\'s last run is shown here.');
    return { opened: false };
  }
  await runner.reviewer.open(subject);
  return { opened: true, runId: subject.runId, pending: runner.reviewer.current === subject };
}

/** Open in Roadmap: the ticket's (or the row's) line in its document. */
async function revealInRoadmapCommand(deps: ExtensionDeps, arg: unknown): Promise<void> {
  const s = deps.store.state;
  if (s.kind !== 'ready') return;
  let src = sourceFromArg(arg);
  const ticket = ticketFromArg(arg);
  // An AC row's source is the ledger: "Open in Roadmap" goes to its ticket instead.
  if (ticket && (!src || src.file === s.config.ssot.ledger)) src = s.index.tickets.find((t) => t.id === ticket)?.source ?? src;
  if (!src) return;
  const line = Math.max(0, src.line - 1);
  await vscode.window.showTextDocument(vscode.Uri.joinPath(s.root, src.file), { selection: new vscode.Range(line, 0, line, 0), preview: true });
}

/** Check Evidence: validate one run (the argument's, else a pick) and report every problem. */
async function checkEvidenceCommand(deps: ExtensionDeps, arg: unknown) {
  // Reads files only (no git, no project code): allowed in Restricted Mode too.
  const s = deps.store.state;
  if (s.kind !== 'ready') return { valid: null };
  const evidenceDir = path.join(s.root.fsPath, s.config.paths.evidence);
  const fromArg = typeof arg === 'string' ? arg : arg && typeof arg === 'object' && 'runId' in arg ? arg.runId : undefined;
  const parsed = runIdSchema.safeParse(fromArg);
  // An argument that is not a run id (a path, a tampered link) is refused; none at all asks.
  if (arg !== undefined && !parsed.success) return { valid: null };
  let runId = parsed.success ? parsed.data : undefined;
  if (!runId) {
    const { entries } = await loadEvidenceIndex(evidenceDir);
    const pick = await vscode.window.showQuickPick(
      entries.slice(0, 200).map((e) => ({ label: e.runId, description: `${e.ticketId ?? ''} ${e.status}` })),
      { title: 'Factory: Check Evidence', placeHolder: 'Which evidence run?' },
    );
    runId = pick?.label;
  }
  if (!runId) return { valid: null };
  const check = validateEvidence(path.join(evidenceDir, runId), { profitTickets: s.config.evidence.profitTickets });
  for (const p of check.problems) deps.log.warn(`evidence ${runId}: ${p.file}: ${p.code}: ${p.message}`);
  if (check.valid) void vscode.window.showInformationMessage(`Factory: evidence ${runId} is valid: every file the manifest lists is present, non-empty, well-formed and matches its hash.`);
  else void vscode.window.showWarningMessage(`Factory: evidence ${runId} is INVALID — ${check.problems.length} problem(s), first: ${check.problems[0]?.file}: ${check.problems[0]?.message}`, 'Show Log').then((c) => c && deps.log.show());
  return { runId, valid: check.valid, problems: check.problems };
}

/** Open Evidence: the ticket's newest evidence run (README or manifest) and its Run panel. */
async function openEvidenceCommand(deps: ExtensionDeps, arg: unknown) {
  const s = deps.store.state;
  if (s.kind !== 'ready') return;
  const ticket = ticketFromArg(arg);
  const evidenceDir = path.join(s.root.fsPath, s.config.paths.evidence);
  const { entries } = await loadEvidenceIndex(evidenceDir);
  const run = entries.find((e) => !ticket || e.ticketId === ticket);
  if (!run) {
    void vscode.window.showInformationMessage(`Factory: ${ticket ?? 'the workspace'} has no evidence yet (${s.config.paths.evidence}).`);
    return { runId: null };
  }
  const dir = path.join(evidenceDir, run.runId);
  const file = ['README.md', 'manifest.json'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (file) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  await vscode.commands.executeCommand('factory.runPanel.open', run.runId);
  return { runId: run.runId };
}
