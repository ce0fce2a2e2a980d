/**
 * What the Factory commands receive as their argument: a Roadmap row (phase, ticket or AC), an AC
 * Queue row, a ticket id typed by another extension or a keybinding, or nothing (the command
 * palette). Pure (no `vscode`): outside input, checked before it reaches the core.
 */

/** Ticket ids as the SSOT documents spell them (D201, ALPHA-1U-FIX-2, D_ALPHA-1U-FIX-2-1 …). */
const TICKET_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A valid ticket id, or undefined. */
export function validTicketId(id: unknown): string | undefined {
  const s = str(id)?.trim();
  return s && TICKET_ID.test(s) && !s.includes('..') ? s : undefined;
}

/**
 * The ticket a command argument names: a ticket row's ticket, an AC row's (or queue row's) ticket,
 * or a plain id. A phase row or anything else names none.
 */
export function ticketFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return validTicketId(arg);
  if (!isObject(arg)) return undefined;
  if (arg.kind === 'ticket' && isObject(arg.ticket)) return validTicketId(arg.ticket.id);
  if (isObject(arg.ac)) return validTicketId(arg.ac.ticketId);
  if (isObject(arg.ticket)) return validTicketId(arg.ticket.id);
  return undefined;
}

/** The source location a row points at (for "Open in Roadmap"), or undefined. */
export function sourceFromArg(arg: unknown): { file: string; line: number } | undefined {
  if (!isObject(arg)) return undefined;
  const candidates = [arg.source, isObject(arg.ticket) ? arg.ticket.source : undefined, isObject(arg.ac) ? arg.ac.source : undefined];
  for (const c of candidates) {
    if (isObject(c) && typeof c.file === 'string' && c.file && typeof c.line === 'number' && Number.isInteger(c.line) && c.line > 0) return { file: c.file, line: c.line };
  }
  return undefined;
}
