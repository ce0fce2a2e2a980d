/**
 * Spec §8-3 step 1, "git status → clean": a cycle starts only from a work tree without changes,
 * untracked files included (ignored files are not in `git status`). The Controller's own records
 * never block it: everything under `paths.autopilot` (history, plan, gate cache, audits, state),
 * and the evidence folders no PASS commit takes (runs that did not PASS, `factory gate` runs).
 */
import { matchingPaths } from '../sandbox/staging';

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
