import type { FactoryConfig } from '../../../core/config/schema';
import { assessTicketRisk, riskWhyLines, ticketRiskTexts } from '../../../core/plan/risk';
import type { AcceptanceCriterion, SourceRef, SsotIndex, Status, Ticket } from '../../../core/ssot/model';
import { statusIcon, type RowView } from '../status-icon';

/** What one row of the Roadmap tree shows; built without `vscode` so it is unit-testable. */
interface RowBase extends RowView {
  source?: SourceRef;
}

export interface PhaseRow extends RowBase {
  kind: 'phase';
  children: TicketRow[];
}

export interface TicketRow extends RowBase {
  kind: 'ticket';
  ticket: Ticket;
  children: AcRow[];
}

export interface AcRow extends RowBase {
  kind: 'ac';
  ac: AcceptanceCriterion;
}

export type RoadmapRow = PhaseRow | TicketRow | AcRow;

/** Title of the synthetic group for tickets that no phase lists. */
export const UNPHASED_TITLE = 'Other tickets';

/**
 * The ACs of a ticket: the ledger's rows for it (the ledger is the authority on AC status) plus
 * any AC that only the roadmap lists, in ledger order first.
 */
export function acsOfTicket(ticket: Ticket, ledgerByTicket: Map<string, AcceptanceCriterion[]>): AcceptanceCriterion[] {
  const fromLedger = ledgerByTicket.get(ticket.id) ?? [];
  const seen = new Set(fromLedger.map((ac) => ac.id));
  return [...fromLedger, ...ticket.acs.filter((ac) => !seen.has(ac.id))];
}

/**
 * DONE/TOTAL of a ticket: the roadmap's own column when it has one (that is what the document
 * says), otherwise counted from its ACs.
 */
export function ticketProgress(ticket: Ticket, acs: AcceptanceCriterion[]): { done: number; total: number } {
  if (ticket.done !== undefined && ticket.total !== undefined) return { done: ticket.done, total: ticket.total };
  return { done: acs.filter((ac) => ac.status === 'DONE').length, total: acs.length };
}

function keyOf(kind: string, id: string, source?: SourceRef): string {
  return source ? `${kind}:${id}@${source.file}:${source.line}` : `${kind}:${id}`;
}

function statusToken(status: Status): string {
  return `status:${status}`;
}

/**
 * The ticket's risk from its own text (profit tickets, risk.words) as tooltip lines; the path
 * rules and the scope's size join when a cycle plans it (`factory dry` shows the full rating).
 */
function textRiskLines(ticket: Ticket, acs: AcceptanceCriterion[], config: FactoryConfig | undefined): string[] {
  if (!config) return [];
  const risk = assessTicketRisk({ ticketId: ticket.id, texts: ticketRiskTexts(ticket, acs), modify: [], files: [], config });
  return [`Risk (ticket text): ${risk.level}`, ...riskWhyLines(risk).map((l) => `  ${l}`)];
}

function acRow(ac: AcceptanceCriterion, riskLines: string[] = []): AcRow {
  const lines = [`${ac.id} — ${ac.title}`, `Status: ${ac.rawStatus || ac.status}`];
  if (ac.evidence) lines.push(`Evidence: ${ac.evidence}`);
  if (ac.commit) lines.push(`Commit: ${ac.commit}`);
  lines.push(...riskLines);
  lines.push(`${ac.source.file}:${ac.source.line}`);
  return {
    kind: 'ac',
    key: keyOf('ac', ac.id, ac.source),
    label: ac.localId || ac.id,
    description: ac.status === 'DONE' ? ac.title : `${ac.status} · ${ac.title}`,
    tooltip: lines.join('\n'),
    icon: statusIcon(ac.status),
    contextValue: ['ac', statusToken(ac.status)].join(';'),
    source: ac.source,
    ac,
  };
}

function ticketRow(ticket: Ticket, ledgerByTicket: Map<string, AcceptanceCriterion[]>, config?: FactoryConfig): TicketRow {
  const acs = acsOfTicket(ticket, ledgerByTicket);
  const riskLines = textRiskLines(ticket, acs, config);
  const { done, total } = ticketProgress(ticket, acs);
  const parts = [`${done}/${total}`];
  // BLOCKED (and other non-trivial states) are spelled out: an icon alone is easy to miss.
  if (ticket.status !== 'DONE' && ticket.status !== 'OPEN') parts.push(ticket.status);
  if (ticket.title) parts.push(ticket.title);
  const lines = [`${ticket.id} — ${ticket.title}`, `Status: ${ticket.rawStatus || ticket.status}`, `ACs: ${done}/${total} done`];
  if (ticket.blockedReason) lines.push(`Blocked: ${ticket.blockedReason}`);
  lines.push(...riskLines);
  lines.push(`${ticket.source.file}:${ticket.source.line}`);
  return {
    kind: 'ticket',
    key: keyOf('ticket', ticket.id, ticket.source),
    label: ticket.id,
    description: parts.join(' · '),
    tooltip: lines.join('\n'),
    icon: statusIcon(ticket.status),
    contextValue: ['ticket', statusToken(ticket.status)].join(';'),
    source: ticket.source,
    ticket,
    children: acs.map((ac) => acRow(ac, riskLines)),
  };
}

/**
 * Phase → ticket → AC rows for an index. Tickets that no phase lists are grouped under
 * {@link UNPHASED_TITLE} so nothing the documents contain is hidden. With `config`, ticket and AC
 * tooltips carry the ticket's risk from its text, with the reasons.
 */
export function buildRoadmapRows(index: SsotIndex, config?: FactoryConfig): PhaseRow[] {
  const ledgerByTicket = new Map<string, AcceptanceCriterion[]>();
  for (const ac of index.ledger) {
    const list = ledgerByTicket.get(ac.ticketId);
    if (list) list.push(ac);
    else ledgerByTicket.set(ac.ticketId, [ac]);
  }
  const ticketsById = new Map<string, Ticket>();
  for (const t of index.tickets) if (!ticketsById.has(t.id)) ticketsById.set(t.id, t);

  const placed = new Set<Ticket>();
  const phases: PhaseRow[] = [];
  const phaseRow = (title: string, tickets: Ticket[], source?: SourceRef): PhaseRow => {
    const children = tickets.map((t) => ticketRow(t, ledgerByTicket, config));
    const done = tickets.filter((t) => t.status === 'DONE').length;
    const blocked = tickets.filter((t) => t.status === 'BLOCKED').length;
    const description = `${done}/${tickets.length}` + (blocked ? ` · ${blocked} BLOCKED` : '');
    const allDone = tickets.length > 0 && done === tickets.length;
    return {
      kind: 'phase',
      key: keyOf('phase', title, source),
      label: title,
      description,
      tooltip: `${title}\n${done} of ${tickets.length} tickets done` + (blocked ? `, ${blocked} blocked` : ''),
      icon: allDone ? { id: 'milestone', color: 'testing.iconPassed' } : { id: 'milestone' },
      contextValue: 'phase',
      ...(source ? { source } : {}),
      children,
    };
  };

  for (const phase of index.phases) {
    const tickets: Ticket[] = [];
    for (const id of phase.ticketIds) {
      const t = index.tickets.find((x) => x.id === id && x.phase === phase.title && !placed.has(x)) ?? ticketsById.get(id);
      if (t && !placed.has(t)) {
        placed.add(t);
        tickets.push(t);
      }
    }
    phases.push(phaseRow(phase.title, tickets, phase.source));
  }
  const rest = index.tickets.filter((t) => !placed.has(t));
  if (rest.length) phases.push(phaseRow(UNPHASED_TITLE, rest));
  return phases;
}
