/** The logging seam of the core: the extension maps it to a LogOutputChannel, the CLI to stderr. */
export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

/** A logger that drops everything (tests, benchmarks). */
export const nullLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Long operations report progress as steps; the extension maps this to withProgress. */
export interface ProgressReport {
  step: number;
  maxStep: number;
  message: string;
}

export type ProgressSink = (report: ProgressReport) => void;
