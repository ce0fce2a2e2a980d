import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import picomatch from 'picomatch';

export interface GateTreeCopy {
  dir: string;
  dispose(): Promise<void>;
}

/** Never copied into a gate container: VCS data (SEC-1: no `.git` mount) and secrets. */
const ALWAYS_EXCLUDED = ['.git', '**/.git', '.env', '.env.*', '**/.env', '**/.env.*'];

/**
 * A throw-away copy of `root` for a container Gate (`factory gate` on the working tree): without
 * `.git`, `.env` files and the given folders (evidence, autopilot), symlinks copied as links
 * (never followed), owned by the container user so the project's tests may write next to their
 * code, in `<tmpdir>/factory-gate-*` so the orphan reaper may delete it.
 */
export async function copyTreeForGate(root: string, opts: { exclude?: string[]; uid?: number; gid?: number } = {}): Promise<GateTreeCopy> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'factory-gate-'));
  await fs.promises.chmod(dir, 0o755);
  const excluded = picomatch([...ALWAYS_EXCLUDED, ...(opts.exclude ?? []).flatMap((p) => [p, `${p}/**`])], { dot: true });
  const absRoot = path.resolve(root);
  await fs.promises.cp(absRoot, dir, {
    recursive: true,
    verbatimSymlinks: true,
    preserveTimestamps: true,
    filter: (src) => {
      const rel = path.relative(absRoot, src).split(path.sep).join('/');
      return rel === '' || !excluded(rel);
    },
  });
  const uid = opts.uid ?? 1000;
  const gid = opts.gid ?? uid;
  if (process.getuid?.() === 0) {
    // Only root can hand the copy to the container user; others' copies are readable (0644/0755) anyway.
    const chownAll = async (p: string): Promise<void> => {
      await fs.promises.lchown(p, uid, gid);
      const st = await fs.promises.lstat(p);
      if (st.isDirectory()) for (const e of await fs.promises.readdir(p)) await chownAll(path.join(p, e));
    };
    await chownAll(dir);
  }
  return { dir, dispose: () => fs.promises.rm(dir, { recursive: true, force: true }) };
}
