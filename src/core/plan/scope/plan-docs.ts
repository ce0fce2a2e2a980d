/**
 * Per-AC plan documents (issue 15): a repository may keep `docs/plan/<AC>.md` with the files an
 * AC may modify, only read, or must not touch. The caller reads the documents `planDocPaths`
 * names; `parsePlanDoc` turns one into candidates. Headings in English or Korean (수정 / 읽기 전용 /
 * 금지, the words of the spec's scope); list items are paths or globs, optionally in backticks.
 */
import { isSafeRepoPath } from '../../paths/validate';
import type { FileIndex } from './file-index';
import type { ScopeCandidate } from './scope-types';

/** Folders where plan documents are looked for. */
export const PLAN_DOC_DIRS = ['docs/plan', 'docs/plans'] as const;

/** A forbidden entry with its reason (the candidate classes are modify/readonly only). */
export interface ForbiddenEntry {
  path: string;
  reason: string;
}

export interface PlanDocScope {
  candidates: ScopeCandidate[];
  forbidden: ForbiddenEntry[];
}

type Section = 'modify' | 'readonly' | 'forbidden';

/** File names an AC's (or the ticket's) plan document may have: `::` is not a portable file name. */
function docNames(id: string): string[] {
  if (!id.includes('::')) return [id];
  return [id, id.replace('::', '__'), id.replace('::', '_'), id.replace('::', '-'), id.replace('::', '/')];
}

/** The tracked plan documents of the work, AC documents first, then the ticket's own. */
export function planDocPaths(index: FileIndex, ticketId: string, acIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const id of [...acIds, ticketId]) {
    for (const dir of PLAN_DOC_DIRS) {
      for (const name of docNames(id)) {
        const p = `${dir}/${name}.md`;
        if (index.files.has(p) && !out.includes(p)) out.push(p);
      }
    }
  }
  return out;
}

/**
 * The section a heading opens, or undefined for any other heading. Read-only is tested first
 * (`읽기 전용 (수정 금지)` is read-only), then forbidden (`수정 금지`, `do not modify`), then modify.
 */
export function sectionOf(heading: string): Section | undefined {
  const h = heading.toLowerCase();
  if (/read[\s_-]*only|readonly|읽기\s*전용|참조/.test(h)) return 'readonly';
  if (/forbidden|do not|don't|must not|not allowed|off[\s-]limits|never|금지/.test(h)) return 'forbidden';
  if (/modify|change|write|edit|수정|변경/.test(h)) return 'modify';
  return undefined;
}

/**
 * The heading text of a line, or undefined: `## Modify`, a whole bold line `**Read-only**`, or a
 * short label ending in a colon (`Forbidden:`). Other prose keeps the current section.
 */
function headingOf(line: string): string | undefined {
  const atx = /^#{1,6}\s+(.+?)\s*#*$/.exec(line);
  if (atx?.[1]) return atx[1];
  const bold = /^(?:\*\*|__)([^*_]+?)(?:\*\*|__)\s*:?$/.exec(line);
  if (bold?.[1]) return bold[1];
  const label = /^([^-*+\s`#][^`:]{0,40}):$/.exec(line);
  return label?.[1];
}

/** The path of a list item: its first backticked span, else its first word. */
function itemPath(line: string): string | undefined {
  const item = /^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.+)$/.exec(line);
  if (!item?.[1]) return undefined;
  const ticked = /`([^`]+)`/.exec(item[1]);
  const raw = (ticked?.[1] ?? item[1].split(/\s/)[0] ?? '').trim().replace(/^\.\//, '').replace(/[,;:]$/, '');
  return raw && isSafeRepoPath(raw, { kind: 'glob', protect: false }) ? raw : undefined;
}

/** The scope lists of one plan document; items outside a known section, or unsafe paths, are ignored. */
export function parsePlanDoc(docPath: string, text: string): PlanDocScope {
  const out: PlanDocScope = { candidates: [], forbidden: [] };
  const reason = `plan document ${docPath}`;
  let section: Section | undefined;
  for (const line of text.split(/\r?\n/)) {
    const p = itemPath(line);
    if (p === undefined) {
      const heading = line.trim() ? headingOf(line.trim()) : undefined;
      if (heading !== undefined) section = sectionOf(heading);
      continue;
    }
    if (section === 'forbidden') out.forbidden.push({ path: p, reason });
    else if (section) out.candidates.push({ path: p, cls: section, reason, source: 'plan-doc' });
  }
  return out;
}
