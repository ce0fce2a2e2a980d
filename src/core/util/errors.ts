/**
 * An error meant for the user: one clear line, plus the exit code the CLI should use.
 * Everything else that escapes is a bug and is reported with its stack in the log.
 */
export class FactoryError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'FactoryError';
  }
}

/** Narrow an unknown caught value to a message without losing non-Error throws. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
