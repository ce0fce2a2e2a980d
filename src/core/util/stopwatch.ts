import type { Logger } from './log';

/**
 * Laps for a long operation's debug log (`factory run -v`): each call logs the time since the
 * previous one, so a slow step shows up by name.
 */
export function stopwatch(log: Logger, scope: string): (step: string) => void {
  let last = performance.now();
  return (step) => {
    const now = performance.now();
    log.debug(`${scope}: ${step} ${Math.round(now - last)} ms`);
    last = now;
  };
}
