import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FactoryError } from '../util/errors';
import { CONFIG_FILE, CONFIG_MAX_BYTES, configFileDiagnostic, defaultConfigFast, type LoadedConfig } from './config-file';

// What parse-config.ts shares with this module lives in config-file.ts (no import cycle); re-exported
// here so callers keep one entry point for reading the config.
export { CONFIG_FILE, CONFIG_MAX_BYTES, configFileDiagnostic, defaultConfigFast, type LoadedConfig } from './config-file';

/**
 * Read `<root>/.factory/config.json`. An absent file gives the defaults and no diagnostics; a file
 * that is not JSON gives a diagnostic on the line of the syntax error; a file that breaks the
 * schema gives one diagnostic per problem, naming its JSON path (`worker.memoryMb: expected
 * number, received string`) on the line of that key. Never throws for bad content, so the
 * extension can show the problems and keep working on defaults.
 */
export async function loadConfig(root: string): Promise<LoadedConfig> {
  const file = path.join(root, CONFIG_FILE);
  let text: string;
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) {
      return { config: defaultConfigFast(), file, diagnostics: [configFileDiagnostic('is not a regular file')] };
    }
    if (stat.size > CONFIG_MAX_BYTES) {
      return {
        config: defaultConfigFast(),
        file,
        diagnostics: [configFileDiagnostic(`is ${stat.size} bytes; the limit is ${CONFIG_MAX_BYTES}`)],
      };
    }
    text = await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: defaultConfigFast(), diagnostics: [] };
    return {
      config: defaultConfigFast(),
      file,
      diagnostics: [configFileDiagnostic(`cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`)],
    };
  }
  // Lazy: zod and the JSON parser load only when there is a file to validate (CLI start-up).
  const { parseConfigText } = await import('./parse-config');
  return { ...parseConfigText(text), file };
}

/**
 * The strict variant for the CLI: the same reading, but any error-level diagnostic becomes a
 * FactoryError (exit code 2) whose one-line message names the file, line and JSON path of the
 * first problem (and how many more there are).
 */
export async function loadConfigStrict(root: string): Promise<LoadedConfig> {
  const loaded = await loadConfig(root);
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new FactoryError(`invalid config ${first.file}:${first.line}: ${first.message}${more}`, 'config.invalid');
  }
  return loaded;
}
