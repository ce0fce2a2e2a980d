/**
 * Splits a byte-less text stream into lines across chunk boundaries. The last line may be cut
 * (the agent was killed mid-write); `end()` returns it so parsers can try it and report it.
 */
export class LineSplitter {
  private rest = '';

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const text = this.rest + chunk;
    const parts = text.split(/\r?\n/);
    this.rest = parts.pop() ?? '';
    for (const p of parts) this.onLine(p);
  }

  /** Flush the unterminated tail (if any) as a last line; returns it. */
  end(): string | undefined {
    const tail = this.rest;
    this.rest = '';
    if (tail.trim()) {
      this.onLine(tail);
      return tail;
    }
    return undefined;
  }
}

/** JSON.parse of one output line, or undefined for banners, progress text and cut lines. */
export function parseJsonLine(line: string): Record<string, unknown> | undefined {
  const t = line.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
export const optNum = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
export const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Classify an error message by the words agents and APIs use. */
export function classifyMessage(text: string): 'auth_error' | 'rate_limited' | 'budget_exceeded' | undefined {
  if (/budget_exceeded|budget of \$[\d.]+ is spent|max[_ -]?budget/i.test(text)) return 'budget_exceeded';
  if (/\b401\b|\b403\b|unauthori[sz]ed|authentication|invalid (x-)?api[- _]key|api key not valid|permission_denied|auth(entication)?_?(error|failed)/i.test(text)) return 'auth_error';
  if (/\b429\b|rate[ _-]?limit|too many requests|resource_exhausted|overloaded|quota/i.test(text)) return 'rate_limited';
  return undefined;
}
