/**
 * Every FactoryError code, with the CLI exit code it maps to and what it means: the one table of
 * both (the CLI, `runCommand` in src/cli/io.ts, exits with `err.exitCode`, read from here). Exit
 * codes: 0 nothing to do, 1 the work was checked and failed, 2 the input or environment is wrong,
 * 3 another Controller holds the repository, 130 interrupted (the shell's SIGINT convention).
 * This module imports nothing, so the CLI can load it before any command (lean start-up).
 */
export const ERROR_CODES = {
  usage: { exit: 2, meaning: 'a command-line argument or option is missing, malformed or contradicts another' },
  interrupted: { exit: 130, meaning: 'the user cancelled (Ctrl-C, SIGTERM, Cancel or Stop Worker) and the operation stopped' },
  locked: { exit: 3, meaning: 'another live Controller holds the repository lock (a cycle is already running)' },
  'lock-failed': { exit: 2, meaning: 'the repository lock could not be taken for a reason other than another holder' },

  'config.invalid': { exit: 2, meaning: '.factory/config.json does not parse or breaks its schema' },
  'config.command-missing': { exit: 2, meaning: 'a configured Gate stage or guard names a program or script that is not in the repository (or no stage is configured)' },
  'init.exists': { exit: 2, meaning: '`factory init` would overwrite an existing SSOT document or config' },

  'ssot.missing': { exit: 2, meaning: 'the roadmap or the AC ledger named by the config does not exist' },
  'ssot.bad-path': { exit: 2, meaning: 'an SSOT path in the config breaks the path rules (absolute, `..`, protected location)' },
  'ssot.not-utf8': { exit: 2, meaning: 'an SSOT document the cycle must edit is not valid UTF-8' },
  'ssot.ac-not-found': { exit: 2, meaning: 'no ledger row has the AC id a status edit names' },
  'ssot.ac-deleted': { exit: 2, meaning: 'an edit would delete an AC row from the ledger (SEC-30)' },
  'ssot.ticket-not-found': { exit: 2, meaning: 'the roadmap has no row for the ticket a status edit names' },
  'ssot.no-status': { exit: 2, meaning: 'the ticket or AC row has no status cell to edit' },
  'ssot.no-column': { exit: 2, meaning: 'the table lacks the column a cell edit needs' },
  'ssot.not-a-row': { exit: 2, meaning: 'the line a cell edit points at is not an editable table row' },
  'ssot.bad-value': { exit: 2, meaning: 'a cell value would break the table (a line break) or is no status word the parser knows' },
  'ssot-dirty': { exit: 2, meaning: 'the SSOT documents have uncommitted changes that ADJUST would overwrite' },

  'plan.unknown-ticket': { exit: 2, meaning: 'the requested ticket is not in the roadmap' },
  'plan.blocked': { exit: 2, meaning: 'the ticket is BLOCKED or its retry cap is reached; a person has to look at it' },
  'plan.nothing-open': { exit: 2, meaning: 'the requested ticket has no OPEN AC left' },
  'plan.queue-empty': { exit: 0, meaning: 'no OPEN AC is left in the queue: nothing to do (not a failure)' },
  'plan.invalid': { exit: 2, meaning: 'a plan (built or read from plan.json) breaks the plan.json schema' },

  'not-a-repo': { exit: 2, meaning: 'the workspace is not inside a git repository' },
  'no-commit': { exit: 2, meaning: 'the repository has no commit to stage (or the named base commit is unknown)' },
  'git-status': { exit: 2, meaning: '`git status` failed while looking for uncommitted changes' },
  'git-check-ignore': { exit: 2, meaning: '`git check-ignore` failed while classifying new files' },
  'git-failed': { exit: 2, meaning: 'a git command of the Controller (add, commit, show …) failed' },
  'git-unsafe-directory': { exit: 2, meaning: 'git refuses the repository because another user owns it (safe.directory); the user must mark it trusted' },
  'scope-dirty': { exit: 2, meaning: 'paths the plan may modify have uncommitted changes the Worker would not see' },
  'worktree-dirty': { exit: 2, meaning: 'the work tree has changes (untracked files included) a cycle would neither see nor commit; spec §8-3 starts from a clean tree' },
  'baseline-red': { exit: 1, meaning: 'the Gate or DocOps fails on HEAD before any change (spec §8-3 baseline); fix HEAD or accept the red baseline' },
  'staging-over-budget': { exit: 2, meaning: 'the staging copy does not fit the space allowed for it' },
  'staging-export': { exit: 2, meaning: 'exporting the base commit into the staging copy failed' },

  'docker-unavailable': { exit: 2, meaning: 'no Docker engine answers at the configured or default endpoint' },
  'docker-host-invalid': { exit: 2, meaning: 'DOCKER_HOST is malformed or names an unsupported scheme' },
  'docker-tls': { exit: 2, meaning: 'the TLS files for a tcp:// engine (DOCKER_CERT_PATH) cannot be read' },
  'sandbox-spec': { exit: 2, meaning: 'a container spec breaks the hardening rules (mount, limit or user)' },
  'gate.image': { exit: 2, meaning: 'the Gate image is not available on the engine' },
  'gate.unknown-stage': { exit: 2, meaning: 'a requested Gate stage is not configured' },
  image_missing: { exit: 2, meaning: 'the Worker image is not on the engine (build it first)' },
  runtime_missing: { exit: 2, meaning: 'the Worker runtime bundle (dist/worker.js) is not built' },

  agent_unknown: { exit: 2, meaning: 'no agent adapter has the requested name' },
  agent_config: { exit: 2, meaning: 'the agent cannot run as configured (no custom command, no replay recording)' },
  gateway_config: { exit: 2, meaning: 'a model gateway provider is unknown or its upstream URL is not http(s)' },
  budget_exceeded: { exit: 2, meaning: 'the model budget of the run is spent' },
  'worker-error': { exit: 1, meaning: 'the Worker container failed before it produced a result' },
  'swarm.unavailable': { exit: 2, meaning: 'engine.backend is "swarm" but the engine is no swarm manager, or this machine is no node of it' },
  'swarm.image': { exit: 2, meaning: 'no ready swarm node has the Worker (or relay) image the job needs' },
  'swarm.relay': { exit: 2, meaning: 'the run\'s relay service did not start or stopped answering on its overlay network' },
  'swarm.job': { exit: 2, meaning: 'a swarm job could not be created, was rejected by the swarm, or its task never ran' },
  'swarm.transfer': { exit: 1, meaning: 'a swarm task\'s result archive broke the transfer rules (size cap, a path outside its folder, a link)' },

  'evidence.allocate': { exit: 2, meaning: 'no free evidence run folder name could be allocated' },
  'evidence.exists': { exit: 2, meaning: 'the evidence run folder already exists (never overwritten)' },
  'evidence.path': { exit: 2, meaning: 'an evidence file path is not allowed or would overwrite a Controller file' },
  'evidence.pnl-missing': { exit: 1, meaning: 'a profit-related run has no pnl_breakdown.json' },
  'evidence-invalid': { exit: 1, meaning: 'the evidence written for a PASS fails its own validation' },

  'feedback.invalid': { exit: 2, meaning: 'a review feedback file (factory run --feedback) does not parse: the message names the file and line' },
  'compare.invalid': { exit: 2, meaning: 'factory run --compare needs two different known agents (and no --parallel or --agent with it)' },

  'audit.nothing': { exit: 2, meaning: 'the ticket has no cycle commit to audit' },
  'audit.no-plan': { exit: 2, meaning: 'the cycle commit to audit carries no plan.json' },
  'audit.wrong-ticket': { exit: 2, meaning: 'the plan.json of the commit names another ticket' },
} as const satisfies Record<string, { exit: number; meaning: string }>;

/** A FactoryError code: a key of ERROR_CODES. */
export type FactoryErrorCode = keyof typeof ERROR_CODES;

/** The exit code the CLI uses for `code`. */
export function exitCodeOf(code: FactoryErrorCode): number {
  return ERROR_CODES[code].exit;
}

/**
 * An error meant for the user: one clear line, plus the exit code the CLI should use (from
 * ERROR_CODES). Everything else that escapes is a bug and is reported with its stack in the log.
 */
export class FactoryError extends Error {
  constructor(
    message: string,
    readonly code: FactoryErrorCode,
  ) {
    super(message);
    this.name = 'FactoryError';
  }

  /** The CLI's exit code for this error, from ERROR_CODES. */
  get exitCode(): number {
    return ERROR_CODES[this.code].exit;
  }
}

/** Narrow an unknown caught value to a message without losing non-Error throws. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
