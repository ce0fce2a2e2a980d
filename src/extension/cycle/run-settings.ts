import * as path from 'node:path';

/** The cycle's settings (`factory.*`), read for the workspace folder at the start of each run. */
export interface RunSettings {
  agent?: string;
  replayDir?: string;
  requireApproval: boolean;
}

/** What `WorkspaceConfiguration.inspect()` returns, reduced to what is read here. */
export interface Inspected<T> {
  defaultValue?: T;
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/**
 * A security-relevant setting's value from the user's own settings only (SECURITY 23): a
 * repository's `.vscode/settings.json` must not switch off the review or point the replay agent
 * somewhere, so its workspace and folder values are ignored.
 */
export function userValue<T>(i: Inspected<T> | undefined, fallback: T): T {
  return i?.globalValue ?? i?.defaultValue ?? fallback;
}

/** The run settings from the configuration section `factory` (pure: the caller passes `inspect`). */
export function runSettings(root: string, get: <T>(key: string) => Inspected<T> | undefined): RunSettings {
  const agent = (get<string>('agent')?.workspaceFolderValue ?? get<string>('agent')?.workspaceValue ?? userValue(get<string>('agent'), '')).trim();
  const replay = userValue(get<string>('replayDirectory'), '').trim();
  return {
    ...(agent ? { agent } : {}),
    ...(replay ? { replayDir: path.resolve(root, replay) } : {}),
    requireApproval: userValue(get<boolean>('review.requireApproval'), false) === true,
  };
}
