import type { Plan } from '../contracts/plan';
import type { WorkerTask } from './task';

/**
 * The Worker's prompt: the ticket and its acceptance criteria, the scope as hard limits, the done
 * criteria, and the project's rules document. Plain Markdown; the same for every agent.
 */
export function buildPrompt(plan: Plan, task: WorkerTask): string {
  if (task.role === 'auditor') return buildAuditorPrompt(plan, task);
  const acText = new Map(task.acceptanceCriteria.map((a) => [a.id, a.text]));
  const list = (xs: readonly string[]) => (xs.length ? xs.map((x) => `- \`${x}\``).join('\n') : '- (none)');
  const parts = [
    `# Ticket ${plan.ticket_id}`,
    '',
    'You are the Worker of an agentic coding factory. Implement the acceptance criteria below in this repository (your working directory), then stop. Do not commit; the Controller reviews and applies your changes.',
    '',
    '## Acceptance criteria',
    ...plan.ac_ids.map((id) => `- **${id}**: ${acText.get(id)?.trim() || '(text not available)'}`),
    '',
    '## Scope (enforced: changes outside it fail the cycle)',
    'You may modify only:',
    list(plan.scope.modify),
    '',
    'Read-only:',
    list(plan.scope.readonly),
    '',
    'Forbidden (do not read for instructions, do not change):',
    list(plan.scope.forbidden),
    '',
    '## Done when',
    plan.done_criteria || 'The gate passes.',
    ...(task.gate.stages.length ? ['', 'The gate runs, in order: ' + task.gate.stages.map((s) => `${s.name} (\`${s.command.join(' ')}\`)`).join(', ') + '.'] : []),
    '',
    `Time cap: ${plan.timeout_minutes} minutes. Model budget: ${plan.model_budget}${plan.model ? ` (${plan.model})` : ''}.`,
  ];
  if (task.reviewComments) parts.push('', ...reviewSection(task.reviewComments));
  if (task.rules.trim()) {
    parts.push('', `## Project rules${task.rulesPath ? ` (${task.rulesPath})` : ''}`, '', task.rules.trim());
  }
  return parts.join('\n') + '\n';
}

/**
 * "Request changes" on the previous attempt (issue 20): the person's comment, then each line
 * comment as `- path:line — body`. Their text is fenced (a fence longer than any backtick run in
 * it), so a heading or a fence in a comment cannot end the section or open another one.
 */
function reviewSection(r: NonNullable<WorkerTask['reviewComments']>): string[] {
  const out = [
    '## Review comments from the previous attempt',
    '',
    r.runId
      ? `A person reviewed the changeset of the previous attempt (run ${r.runId}) and asked for changes. Address every comment below. Line numbers are those of that attempt's version of each file, which is not in your working directory: find the place by its content.`
      : 'A person asked for these changes. Address every comment below.',
  ];
  if (r.comment.trim()) out.push('', ...fenced(r.comment.trim()));
  if (r.lines.length) out.push('', 'Comments on lines:', '');
  for (const l of r.lines) {
    const body = l.body.trim();
    // One line: inline; several: fenced under the item (indented, so it stays in the list).
    if (!/[\r\n`]/.test(body)) out.push(`- ${l.path}:${l.line} — ${body}`);
    else out.push(`- ${l.path}:${l.line} —`, '', ...fenced(body).map((x) => `  ${x}`), '');
  }
  return out;
}

/** `text` in a fenced block whose fence no backtick run inside it can close. */
function fenced(text: string): string[] {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return [fence + 'text', ...text.split(/\r?\n/), fence];
}

/**
 * The Auditor's prompt: its instructions (the task's criteria, written by the Controller), the ACs
 * and scope under audit for reference, and the rules. It never asks for a change: the Auditor's
 * tree is read-only and only its report is read back.
 */
function buildAuditorPrompt(plan: Plan, task: WorkerTask): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.map((x) => `- \`${x}\``).join('\n') : '- (none)');
  const parts = [
    `# Audit of ticket ${plan.ticket_id}`,
    '',
    'You are the Auditor of an agentic coding factory. You change nothing in the repository (it is mounted read-only); you only write the report your instructions name.',
    '',
    '## Instructions',
    ...task.acceptanceCriteria.map((a) => a.text.trim()),
    '',
    '## Acceptance criteria of the audited change',
    ...(plan.ac_ids.length ? plan.ac_ids.map((id) => `- ${id}`) : ['- (none)']),
    '',
    'The Worker could modify only:',
    list(plan.scope.modify),
  ];
  if (task.rules.trim()) parts.push('', `## Project rules${task.rulesPath ? ` (${task.rulesPath})` : ''}`, '', task.rules.trim());
  return parts.join('\n') + '\n';
}
