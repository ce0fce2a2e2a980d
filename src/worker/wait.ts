import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * True once `file` exists (at once when it already does), false after `timeoutMs`. A change
 * notification on its folder wakes the wait early; a short poll covers file systems (and bind
 * mounts) that send none.
 */
export function waitForFile(file: string, timeoutMs: number): Promise<boolean> {
  if (fs.existsSync(file)) return Promise.resolve(true);
  return new Promise((resolve) => {
    let watcher: fs.FSWatcher | undefined;
    const finish = (ok: boolean) => {
      clearInterval(poll);
      clearTimeout(timer);
      watcher?.close();
      resolve(ok);
    };
    const check = () => {
      if (fs.existsSync(file)) finish(true);
    };
    const poll = setInterval(check, 5);
    const timer = setTimeout(() => finish(fs.existsSync(file)), timeoutMs);
    try {
      watcher = fs.watch(path.dirname(file), check);
      watcher.on('error', () => undefined);
    } catch {
      /* no notifications here: the poll alone */
    }
  });
}
