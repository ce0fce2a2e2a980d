import type { Diagnostic } from '../ssot/model';
import DEFAULTS from './defaults.json';
import type { FactoryConfig } from './schema';

// The config file's name, limits, result shape and defaults: shared by load.ts (no zod) and
// parse-config.ts (zod), which load.ts imports lazily.

/** Where the project config lives, relative to the workspace root (forward slashes). */
export const CONFIG_FILE = '.factory/config.json';

/** A config file larger than this is refused unread: nobody writes 1 MiB of settings by hand. */
export const CONFIG_MAX_BYTES = 1024 * 1024;

/** The result of reading `.factory/config.json`. */
export interface LoadedConfig {
  /** The config to use: the file's values with defaults applied, or all defaults if the file is absent or invalid. */
  config: FactoryConfig;
  /** Problems found in the file; any `error` means `config` is the defaults, not the file. */
  diagnostics: Diagnostic[];
  /** Absolute path of the file that was read, when one exists. */
  file?: string;
}

/**
 * The defaults without loading zod: `defaults.json` is `configSchema.parse({})` written by
 * `npm run schemas` (a unit test fails when it is stale). A fresh copy per call, so callers may
 * mutate it.
 */
export function defaultConfigFast(): FactoryConfig {
  return structuredClone(DEFAULTS) as unknown as FactoryConfig;
}

/** A problem with the config file as a whole (line 1). */
export function configFileDiagnostic(what: string): Diagnostic {
  return { file: CONFIG_FILE, line: 1, severity: 'error', message: `${CONFIG_FILE} ${what}`, code: 'config.unreadable' };
}

