/**
 * README.md of an evidence run: what ran and how to reproduce it. A PASS with a verified tree
 * names that tree, the Gate image and the exact commands that find the commit holding the change
 * (a commit cannot name itself: its `Factory-Run:` trailer finds it) and re-run the Gate on it.
 */
import { formatArgv } from '../gate/gate-log';
import type { BaselineRecord, RunStatus, VerifiedRecord } from './evidence-format';

export interface ReadmeInput {
  runId: string;
  ticketId: string;
  taskName?: string;
  status: RunStatus;
  startedAt: Date;
  /** The commit the run started from (git_info's). */
  commit: string | null;
  /** Reproduction lines of a run without a verified tree (a `factory gate` run, a FAIL). */
  reproduce?: readonly string[];
  verified?: VerifiedRecord;
  baseline?: BaselineRecord;
  /** Further README lines after the reproduction (a non-PASS run's "What happened"). */
  notes?: readonly string[];
}

/** The trailer line of a PASS commit that names its run. */
export function runTrailer(runId: string): string {
  return `Factory-Run: ${runId}`;
}

/** The `git log` command that finds the commit of run `runId` (reachable from HEAD). */
export function findCommitCommand(runId: string): string[] {
  return ['git', 'log', '--format=%H', '--grep', `^${runTrailer(runId).replace(/[.[\]*^$\\]/g, '\\$&')}$`];
}

/** "baseline on HEAD 1a2b3c4: green" / "baseline red, accepted with --accept-red-baseline: fast (2 failed)". */
export function baselineLine(b: BaselineRecord): string {
  if (b.status === 'green') return `baseline on HEAD ${b.commit.slice(0, 7)}: green${b.cached ? ' (gate cache)' : ''}`;
  const failing = b.failing.map((f) => `${f.kind === 'docops' ? 'DocOps ' : ''}${f.name}${f.failed !== undefined ? ` (${f.failed} failed)` : ''}`).join(', ');
  return `baseline on HEAD ${b.commit.slice(0, 7)}: red${b.accepted ? ', accepted with --accept-red-baseline' : ''}: ${failing || 'failing'}`;
}

/** The by-hand steps: a worktree of the base, the commit's versions of the changed paths, its tree id, the Gate. */
function byHand(runId: string, v: VerifiedRecord): string[] {
  const dir = `../verify-${runId}`;
  const present = v.changes.filter((c) => c.blob !== null).map((c) => c.path);
  const gone = v.changes.filter((c) => c.blob === null).map((c) => c.path);
  const sub = v.prefix ? `/${v.prefix.replace(/\/$/, '')}` : '';
  return [
    `C=$(${formatArgv(findCommitCommand(runId))})`,
    formatArgv(['git', 'worktree', 'add', '--detach', dir, v.base_commit]),
    `cd ${formatArgv([dir + sub])}`,
    ...(present.length ? [`git checkout "$C" -- ${formatArgv(present)}`] : []),
    ...(gone.length ? [`git rm -q --ignore-unmatch -- ${formatArgv(gone)}`] : []),
    `git write-tree   # prints ${v.tree}`,
    `factory gate --no-cache${v.image ? `   # with worker.image ${v.image}` : ''}`,
  ];
}

/** README.md's text. */
export function renderReadme(r: ReadmeInput): string {
  const head = [
    `# Evidence ${r.runId}`,
    '',
    `Ticket: ${r.ticketId}${r.taskName ? ` — ${r.taskName}` : ''}  `,
    `Status: ${r.status}  `,
    `Started: ${r.startedAt.toISOString()}${r.baseline ? '  ' : ''}`,
    ...(r.baseline ? [`Baseline: ${baselineLine(r.baseline)}`] : []),
    '',
  ];
  const v = r.verified;
  if (!v) {
    const lines = r.reproduce ?? [`git checkout ${r.commit ?? 'HEAD'}`, 'factory gate', `factory evidence-check ${r.runId}`];
    return [...head, 'Reproduce:', '', '```sh', ...lines, '```', '', ...notesOf(r)].join('\n');
  }
  return [
    ...head,
    `Verified tree: ${v.tree} — base commit ${v.base_commit} with the changeset below  `,
    // The merge queue: the cycle started from another commit; HEAD had moved and the change was integrated onto it.
    ...(r.commit && r.commit !== v.base_commit ? [`Integrated: the Worker started from ${r.commit}; HEAD had moved to ${v.base_commit}, and the Gate ran on that HEAD with the changeset  `] : []),
    `Gate image: ${v.image ?? '(host runner)'}${v.image_id ? ` (${v.image_id})` : ''}  `,
    `Changed: ${v.changes.map((c) => `${c.path} (${c.kind})`).join(', ') || '(nothing)'}`,
    '',
    'Reproduce (the commit holding the change carries the trailer `' + runTrailer(r.runId) + '`):',
    '',
    '```sh',
    `${formatArgv(findCommitCommand(r.runId))}   # the commit that holds this change`,
    `factory evidence-check --reproduce ${r.runId}   # its tree must be ${v.tree.slice(0, 12)}…; re-runs the Gate in the sandbox and compares`,
    `factory evidence-check ${r.runId}   # these files against their manifest hashes`,
    '```',
    '',
    'By hand (the verified tree is the base commit with the commit\'s versions of the changed paths):',
    '',
    '```sh',
    ...byHand(r.runId, v),
    '```',
    '',
    ...notesOf(r),
  ].join('\n');
}

/** The caller's own README section, ending in a blank line; nothing when there is none. */
function notesOf(r: ReadmeInput): string[] {
  return r.notes?.length ? [...r.notes, ''] : [];
}
