import picomatch from 'picomatch';
import type { FactoryConfig, RiskLevel } from '../config/schema';
import type { AcceptanceCriterion } from '../ssot/model';

const ORDER: readonly RiskLevel[] = ['LOW', 'MED', 'HIGH', 'CRIT'];

/** Numeric rank of a risk level (LOW = 0 … CRIT = 3). */
export function riskRank(level: RiskLevel): number {
  return ORDER.indexOf(level);
}

/** The higher of two risk levels. */
export function maxRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  return riskRank(a) >= riskRank(b) ? a : b;
}

export interface RiskAssessment {
  level: RiskLevel;
  /** Which path rule raised the level, and for which path (for the plan's explanation). */
  reasons: { pattern: string; level: RiskLevel; path: string }[];
  auditorRequired: boolean;
  /**
   * Every raise above `risk.default`, in words, in the order applied: "profit ticket
   * (evidence.profitTickets D3*)", "word 'slippage' in D301::AC-2 → HIGH", "path rule
   * engine/core/** matches engine/core/x.py → HIGH", "large scope: 42 files (risk.largeScope 30)".
   * Empty: the level is the default.
   */
  why: string[];
}

/** One raise: the level it asks for and why. */
interface Raise {
  level: RiskLevel;
  why: string;
}

/**
 * Risk of a ticket's work from the configured path rules alone (spec §7-1: engine core → HIGH,
 * PnL / profit logic → CRIT). A rule applies when it matches a file the Worker may modify, or the
 * modify glob itself read as a path (so `engine/core/**` is HIGH even before such a file exists).
 * The level never drops below `risk.default`. {@link assessTicketRisk} adds the ticket's text,
 * profit tickets and the scope's size.
 */
export function assessRisk(modifyGlobs: string[], files: string[], config: FactoryConfig): RiskAssessment {
  const { reasons, raises } = pathRules(modifyGlobs, scopeFiles(modifyGlobs, files), config);
  return settle(config, raises, reasons);
}

/** What {@link assessTicketRisk} reads. */
export interface TicketRiskInput {
  ticketId: string;
  /** The ticket's and its ACs' text: `id` names the source in the reasons (`D301`, `D301::AC-2`). */
  texts: { id: string; text: string }[];
  /** The plan's modify globs (derived or configured). */
  modify: string[];
  /** Repository files (`git ls-files`): the path rules and the size look only at those in `modify`. */
  files: string[];
  config: FactoryConfig;
}

/**
 * Risk of one ticket's work, with a reason for every raise (issue 15 §4, spec §7-1): a profit
 * ticket (`evidence.profitTickets`) is CRIT; words of `risk.words` in the ticket's own text raise
 * it to their level; `risk.rules` apply to the files it may modify (never to file names elsewhere
 * in the repository, so a `tests/test_pnl.py` outside the scope does not make every ticket CRIT);
 * more than `risk.largeScope` modifiable files raise the result one more level. Pure.
 */
export function assessTicketRisk(input: TicketRiskInput): RiskAssessment {
  const { ticketId, texts, modify, files, config } = input;
  const raises: Raise[] = [];
  const profit = config.evidence.profitTickets.find((g) => picomatch.isMatch(ticketId, g));
  if (profit !== undefined) raises.push({ level: 'CRIT', why: `profit ticket (evidence.profitTickets ${profit}) → CRIT` });
  raises.push(...wordRaises(texts, config));
  const inScope = scopeFiles(modify, files);
  const paths = pathRules(modify, inScope, config);
  raises.push(...paths.raises);
  const result = settle(config, raises, paths.reasons);
  if (inScope.length > config.risk.largeScope && result.level !== 'CRIT') {
    const level = ORDER[riskRank(result.level) + 1] ?? 'CRIT';
    result.why.push(`large scope: ${inScope.length} files (risk.largeScope ${config.risk.largeScope}) → ${level}`);
    result.level = level;
    result.auditorRequired = riskRank(level) >= riskRank(config.risk.auditorAt);
  }
  return result;
}

/** The repository files a plan may modify (every file when the list is empty). */
function scopeFiles(modifyGlobs: string[], files: string[]): string[] {
  const inScope = picomatch(modifyGlobs.length ? modifyGlobs : ['**'], { dot: true });
  return files.filter((f) => inScope(f));
}

/** `risk.rules` over the modifiable files and the modify globs themselves. */
function pathRules(modifyGlobs: string[], inScope: string[], config: FactoryConfig): { reasons: RiskAssessment['reasons']; raises: Raise[] } {
  const candidates = [...inScope, ...modifyGlobs];
  const reasons: RiskAssessment['reasons'] = [];
  const raises: Raise[] = [];
  for (const rule of config.risk.rules) {
    const match = picomatch(rule.pattern, { dot: true, nocase: true });
    const hit = candidates.find((p) => match(p));
    if (hit === undefined) continue;
    reasons.push({ pattern: rule.pattern, level: rule.level, path: hit });
    raises.push({ level: rule.level, why: `path rule ${rule.pattern} matches ${hit} → ${rule.level}` });
  }
  return { reasons, raises };
}

/** `risk.words` in the texts: the first text naming each word, per level. */
function wordRaises(texts: TicketRiskInput['texts'], config: FactoryConfig): Raise[] {
  const raises: Raise[] = [];
  for (const level of ORDER) {
    for (const word of config.risk.words[level]) {
      const re = wordPattern(word);
      const hit = texts.find((t) => re.test(t.text));
      if (hit) raises.push({ level, why: `word '${word}' in ${hit.id} → ${level}` });
    }
  }
  return raises;
}

/**
 * English idioms that use a risk word without its meaning, by word: the word between `before` and
 * `after` is prose, not the thing ("in order to" / "in order for" are no trading order), and
 * buying an Auditor for ordinary prose would make every well-written ticket HIGH.
 */
const IDIOMS: Readonly<Record<string, { before: string; after: string }>> = {
  order: { before: 'in', after: 'to|for' },
};

/** Not a letter, digit or `_` on that side: the edge of a word. */
const EDGE_BEFORE = '(?<![\\p{L}\\p{N}_])';
const EDGE_AFTER = '(?![\\p{L}\\p{N}_])';

/**
 * A case-insensitive matcher for one configured word. ASCII words match whole words (so `order`
 * is not found in `border`, `auth` not in `author`) with an optional plural `s`/`es`, except inside
 * an {@link IDIOMS} idiom; spaces match any run of spaces, `_` or `-` (`engine core`, `engine_core`).
 * Other scripts (Korean) have no word boundaries worth the name — particles attach to the noun
 * (`주문을`) — so they match anywhere.
 */
export function wordPattern(word: string): RegExp {
  const body = word
    .trim()
    .split(/\s+/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[\\s_-]+');
  // eslint-disable-next-line no-control-regex
  if (!/^[\x00-\x7f]+$/.test(word)) return new RegExp(body, 'iu');
  const idiom = IDIOMS[word.trim().toLowerCase()];
  // Either not preceded by the idiom's first words, or not followed by its last (the singular word only).
  const notIdiom = idiom ? `(?:(?<!${EDGE_BEFORE}(?:${idiom.before})\\s+)|(?!${body}\\s+(?:${idiom.after})${EDGE_AFTER}))` : '';
  return new RegExp(`${EDGE_BEFORE}${notIdiom}${body}(?:e?s)?${EDGE_AFTER}`, 'iu');
}

/** The highest level asked for (never below `risk.default`); only raises above the default are reasons. */
function settle(config: FactoryConfig, raises: Raise[], reasons: RiskAssessment['reasons']): RiskAssessment {
  const base = config.risk.default;
  let level = base;
  for (const r of raises) level = maxRisk(level, r.level);
  const why = raises.filter((r) => riskRank(r.level) > riskRank(base)).map((r) => r.why);
  return { level, reasons, auditorRequired: riskRank(level) >= riskRank(config.risk.auditorAt), why };
}

/** One line per raise of a risk level, or a line saying it is the default (for `factory dry`, `factory plan`, the UI). */
export function riskWhyLines(risk: Pick<RiskAssessment, 'level' | 'why'>): string[] {
  return risk.why.length ? risk.why.map((w) => `raised by ${w}`) : [`${risk.level} is risk.default: no profit ticket, word, path rule or large scope raised it`];
}

/**
 * The text whose words rate a ticket: its title and the titles of the ACs a cycle would take, each
 * named by its id (the plan and the Roadmap tree read the same text, so they agree).
 */
export function ticketRiskTexts(ticket: { id: string; title: string } | undefined, acs: readonly AcceptanceCriterion[]): TicketRiskInput['texts'] {
  return [...(ticket ? [{ id: ticket.id, text: ticket.title }] : []), ...acs.map((a) => ({ id: a.id, text: a.title }))];
}
