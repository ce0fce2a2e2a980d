/**
 * Spec §8-3 step 1, "git status → clean": a cycle starts only from a work tree without changes,
 * untracked files included (ignored files are not in `git status`). The Controller's own records
 * never block it: everything under `paths.autopilot` (history, plan, gate cache, audits, state),
 * and the evidence folders no PASS commit takes (runs that did not PASS, `factory gate` runs).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runGit } from '../git/git';
import { matchingPaths } from '../sandbox/staging';
import { setAcStatus } from '../ssot/writer';

export { controllerRecordFilter } from '../evidence/records';
import { FactoryError } from '../util/errors';

/** How many dirty paths a refusal names before "and N more". */
const LISTED = 8;

/** `paths` as a short list: the first few, then "and N more". */
export function listPaths(paths: readonly string[], max = LISTED): string {
  const shown = paths.slice(0, max).map((p) => JSON.stringify(p)).join(', ');
  return paths.length > max ? `${shown} and ${paths.length - max} more` : shown;
}

/** The refusal of a dirty work tree: what is dirty, and the ways out. */
export function worktreeDirtyError(dirty: readonly string[]): FactoryError {
  return new FactoryError(
    `refusing to start: the work tree has ${dirty.length} uncommitted change(s), untracked files included: ${listPaths(dirty)}. ` +
      'A cycle starts from a clean tree (spec §8-3): commit or stash them, delete untracked files (`git clean -n` lists them), or add them to .gitignore',
    'worktree-dirty',
  );
}

/**
 * The start refusal for the changed paths `changed` (from one `git status`), if any: the most
 * specific first — the SSOT documents ADJUST edits (`ssot-dirty`), the plan's modify scope
 * (`scope-dirty`) — else the whole tree (`worktree-dirty`). Null when only records changed.
 */
export function dirtyTreeRefusal(changed: readonly string[], isRecord: (p: string) => boolean, docs: readonly string[], modify: readonly string[]): FactoryError | null {
  const dirty = changed.filter((p) => !isRecord(p));
  if (dirty.length === 0) return null;
  const dirtyDocs = dirty.filter((p) => docs.includes(p));
  if (dirtyDocs.length) return new FactoryError(`the SSOT documents have uncommitted changes (${dirtyDocs.join(', ')}); commit or revert them first: ADJUST commits its own edits of them`, 'ssot-dirty');
  const dirtyScope = matchingPaths(dirty, [...modify]);
  if (dirtyScope.length) return new FactoryError(`refusing to start: paths in scope.modify have uncommitted changes on the host: ${listPaths(dirtyScope)}; commit or stash them (the Worker sees HEAD, and ADJUST would overwrite them)`, 'scope-dirty');
  return worktreeDirtyError(dirty);
}

/**
 * A parallel run's later cycles (issue 18): the changed paths `changed` without the ledger when
 * its only change is the Controller's own — the IN_PROGRESS marks of the cycles in flight
 * (`marked`: the AC ids they marked). The ledger must read exactly as HEAD's ledger with those
 * cells set IN_PROGRESS (the same cell-only edit that marked them); any other change to it, or
 * to any other path, stays and refuses the start as usual.
 */
export async function withoutOwnMarks(root: string, ledger: string, changed: readonly string[], head: string | null, marked: readonly string[], signal?: AbortSignal): Promise<string[]> {
  if (!head || marked.length === 0 || !changed.includes(ledger)) return [...changed];
  const atHead = await runGit(root, ['cat-file', 'blob', `${head}:${ledger}`], signal ? { signal } : {});
  if (atHead.code !== 0) return [...changed];
  let expected: string;
  let actual: string;
  try {
    expected = marked.reduce((text, id) => setAcStatus(text, id, { status: 'IN_PROGRESS' }), atHead.stdout.toString('utf8'));
    actual = await fs.promises.readFile(path.join(root, ledger), 'utf8');
  } catch {
    // An AC HEAD's ledger lacks, an unreadable file: not provably ours.
    return [...changed];
  }
  return actual === expected ? changed.filter((p) => p !== ledger) : [...changed];
}
