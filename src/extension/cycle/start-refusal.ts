/**
 * What the editor offers when a cycle is refused at its start (spec §8-3): a dirty work tree →
 * "Show changes" (the Source Control view lists them); a red baseline → "Run anyway" (the same
 * run again, accepting the red baseline). Pure, so it is unit-tested without the editor.
 */
import { FactoryError } from '../../core/util/errors';

/** The refusal codes of a work tree with changes: the tree, the SSOT documents, the plan's scope. */
const DIRTY_CODES: ReadonlySet<string> = new Set(['worktree-dirty', 'ssot-dirty', 'scope-dirty']);

export type StartRefusalOffer =
  /** Open the Source Control view, where the changes are listed. */
  | { action: 'Show changes'; command: 'workbench.view.scm' }
  /** Run the same cycle again with `acceptRedBaseline`. */
  | { action: 'Run anyway'; rerun: { acceptRedBaseline: true } };

/** The offer for a failed cycle start, or undefined when the error is no start refusal. */
export function startRefusalOffer(err: unknown): StartRefusalOffer | undefined {
  if (!(err instanceof FactoryError)) return undefined;
  if (DIRTY_CODES.has(err.code)) return { action: 'Show changes', command: 'workbench.view.scm' };
  if (err.code === 'baseline-red') return { action: 'Run anyway', rerun: { acceptRedBaseline: true } };
  return undefined;
}
