import type { Status } from './model';

/**
 * Maps the many status words real SSOT documents use onto the canonical {@link Status}.
 *
 * Real cells and `**상태:**` lines carry emoji, bold, dates and trailing prose
 * (`✅ COMPLETED (2026-01-06)`, `⚠️ **CONDITIONAL PASS** (…)`). An emoji is the author's explicit
 * verdict, so it wins; otherwise the first known word or phrase decides. Anything else is UNKNOWN and
 * the caller reports it.
 */

const EMOJI: ReadonlyArray<readonly [string, Status]> = [
  ['✅', 'DONE'],
  ['✔', 'DONE'],
  ['☑', 'DONE'],
  ['🚧', 'IN_PROGRESS'],
  ['🔄', 'IN_PROGRESS'],
  ['🔨', 'IN_PROGRESS'],
  ['🚀', 'IN_PROGRESS'],
  ['⚠', 'PARTIAL'],
  ['🟡', 'PARTIAL'],
  ['⛔', 'BLOCKED'],
  ['🚫', 'BLOCKED'],
  ['🔒', 'BLOCKED'],
  ['❌', 'OPEN'],
  ['⏳', 'OPEN'],
  ['📋', 'OPEN'],
  ['⬜', 'OPEN'],
];

/** Words and phrases, upper case, with single spaces. Longer phrases must come first. */
const WORDS: ReadonlyArray<readonly [string, Status]> = [
  ['LOST_EVIDENCE', 'LOST_EVIDENCE'],
  ['LOST EVIDENCE', 'LOST_EVIDENCE'],
  ['IN_PROGRESS', 'IN_PROGRESS'],
  ['IN PROGRESS', 'IN_PROGRESS'],
  ['IN-PROGRESS', 'IN_PROGRESS'],
  ['NOT STARTED', 'OPEN'],
  ['NOT_STARTED', 'OPEN'],
  ['ON HOLD', 'BLOCKED'],
  ['NO-GO', 'OPEN'],
  // "<activity> COMPLETE" means that activity is finished: the activity word alone means it is not.
  ['IMPLEMENTATION COMPLETE', 'DONE'],
  ['VALIDATION COMPLETE', 'DONE'],
  ['VERIFICATION COMPLETE', 'DONE'],
  ['DESIGN COMPLETE', 'DONE'],
  ['ANALYSIS COMPLETE', 'DONE'],
  ['COMPLETED', 'DONE'],
  ['COMPLETE', 'DONE'],
  ['ACCEPTED', 'DONE'],
  ['RESOLVED', 'DONE'],
  ['VERIFIED', 'DONE'],
  ['PASSED', 'DONE'],
  ['MERGED', 'DONE'],
  ['CLOSED', 'DONE'],
  ['DONE', 'DONE'],
  ['PASS', 'DONE'],
  ['GO', 'DONE'],
  ['WIP', 'IN_PROGRESS'],
  ['ACTIVE', 'IN_PROGRESS'],
  ['RUNNING', 'IN_PROGRESS'],
  ['ONGOING', 'IN_PROGRESS'],
  ['IMPLEMENTATION', 'IN_PROGRESS'],
  ['IMPLEMENTING', 'IN_PROGRESS'],
  ['PARTIAL', 'PARTIAL'],
  ['PARTIALLY', 'PARTIAL'],
  ['CONDITIONAL', 'PARTIAL'],
  ['BLOCKED', 'BLOCKED'],
  ['HOLD', 'BLOCKED'],
  ['OPEN', 'OPEN'],
  ['TODO', 'OPEN'],
  ['TO DO', 'OPEN'],
  ['PLANNED', 'OPEN'],
  ['PLAN', 'OPEN'],
  ['PENDING', 'OPEN'],
  ['READY', 'OPEN'],
  ['REOPENED', 'OPEN'],
  ['REOPEN', 'OPEN'],
  ['DESIGN', 'OPEN'],
  ['NEW', 'OPEN'],
  ['FAILED', 'OPEN'],
  ['FAIL', 'OPEN'],
  ['UNKNOWN', 'UNKNOWN'],
];

/** Korean words (no word boundaries in Hangul runs, so matched as substrings). */
const KOREAN: ReadonlyArray<readonly [string, Status]> = [
  ['진행중', 'IN_PROGRESS'],
  ['진행 중', 'IN_PROGRESS'],
  ['부분', 'PARTIAL'],
  ['미착수', 'OPEN'],
  ['대기', 'OPEN'],
  ['예정', 'OPEN'],
  ['계획', 'OPEN'],
  ['설계', 'OPEN'],
  ['차단', 'BLOCKED'],
  ['보류', 'BLOCKED'],
  ['완료', 'DONE'],
  ['확정', 'DONE'],
  ['통과', 'DONE'],
];

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

const emojiRe = new RegExp(EMOJI.map(([e]) => escapeRe(e)).join('|'));
const emojiMap = new Map(EMOJI);
// ASCII words need boundaries so GO does not match GOAL and PASS does not match BYPASS.
const wordRe = new RegExp(
  `(?<![A-Z0-9_-])(?:${WORDS.map(([w]) => escapeRe(w).replace(/ /g, '[ \\t]+')).join('|')}|${KOREAN.map(([w]) => escapeRe(w)).join('|')})(?![A-Z0-9_])`,
  'i',
);
const wordMap = new Map<string, Status>([...WORDS, ...KOREAN]);

export interface NormalizedStatus {
  status: Status;
  /** False when nothing in the text was recognised (report a diagnostic). */
  known: boolean;
}

/**
 * Normalise a status cell or the text after a `**Status:**` label.
 * `known` is false only when the text contains no status word at all.
 */
export function normalizeStatus(raw: string): Readonly<NormalizedStatus> {
  // Real documents use a handful of distinct status cells; remember them (bounded, so a hostile
  // document with a million distinct cells cannot grow the cache).
  const hit = memo.get(raw);
  if (hit) return hit;
  // Frozen: the same object is handed to every caller of the same word.
  const result = Object.freeze(classify(raw));
  if (memo.size < 4096) memo.set(raw, result);
  return result;
}

const memo = new Map<string, NormalizedStatus>();

function classify(raw: string): NormalizedStatus {
  const text = raw.replace(/[*_`~]{2,}|`/g, ' ');
  const emoji = emojiRe.exec(text);
  if (emoji) return { status: emojiMap.get(emoji[0]) ?? 'UNKNOWN', known: true };
  const word = wordRe.exec(text);
  if (word) {
    const key = word[0].toUpperCase().replace(/[ \t]+/g, ' ');
    const status = wordMap.get(key);
    if (status) return { status, known: true };
  }
  return { status: 'UNKNOWN', known: false };
}

/** True when an evidence cell says there is no evidence (empty, NONE, N/A, a dash). */
export function isEmptyEvidence(cell: string | undefined): boolean {
  if (cell === undefined) return true;
  const t = cell.replace(/[*`_]/g, '').trim().toUpperCase();
  return t === '' || t === 'NONE' || t === 'N/A' || t === 'NA' || t === '-' || t === '—' || t === '–' || t === 'TBD' || t === '없음';
}
