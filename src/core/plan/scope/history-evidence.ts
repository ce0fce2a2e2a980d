import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE, manifestSchema } from '../../evidence/evidence-format';
import { parseRunId, runLabel } from '../../evidence/run-id';

/**
 * The PASS evidence runs of one ticket, for scope derivation (issue 15, "the file lists in the
 * evidence of its DONE ACs"). The evidence folder is in the user's repository, so it is read as
 * untrusted: no symlinked run folder or manifest is followed, a manifest is size-capped and must
 * pass the evidence schema, name its own folder, this ticket and status PASS.
 */

/** One PASS run of the ticket: its id and the AC ids it completed. */
export interface PassRun {
  runId: string;
  acIds: string[];
}

/** A manifest is a few KiB; anything near this is not one the Controller wrote. */
const MAX_MANIFEST_BYTES = 1024 * 1024;
/** Newest runs looked at: a ticket has a handful of PASS runs, never hundreds. */
const MAX_RUNS = 200;

/** The manifest of `runDir`, parsed, or undefined when absent, a symlink, oversized or invalid. */
async function readManifest(runDir: string): Promise<ReturnType<typeof manifestSchema.parse> | undefined> {
  let fh: fs.promises.FileHandle | undefined;
  try {
    // O_NOFOLLOW: a symlinked manifest fails to open instead of being read through (no lstat/read race).
    fh = await fs.promises.open(path.join(runDir, MANIFEST_FILE), fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    const st = await fh.stat();
    if (!st.isFile() || st.size > MAX_MANIFEST_BYTES) return undefined;
    const parsed = manifestSchema.safeParse(JSON.parse((await fh.readFile()).toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  } finally {
    await fh?.close();
  }
}

/**
 * The ticket's PASS runs under `<root>/<evidenceDir>`, newest first. Run folders are picked by
 * name first (a run id carries the ticket's label, `20251229_023000_d201_48b14fe`), so only this
 * ticket's manifests are opened; the manifest's `ticket_id` then settles labels two tickets share.
 */
export async function passRunsOf(root: string, evidenceDir: string, ticketId: string): Promise<PassRun[]> {
  const dir = path.join(root, evidenceDir);
  const label = runLabel(ticketId);
  let names: string[];
  try {
    if (!(await fs.promises.lstat(dir)).isDirectory()) return [];
    // Dirent.isDirectory() is false for a symlink, so a symlinked run folder is skipped.
    names = (await fs.promises.readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && parseRunId(d.name)?.label === label)
      .map((d) => d.name);
  } catch {
    return [];
  }
  // Run ids start with the time: a reverse name sort is newest first.
  names.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  const manifests = await Promise.all(names.slice(0, MAX_RUNS).map(async (runId) => ({ runId, m: await readManifest(path.join(dir, runId)) })));
  return manifests
    .filter(({ runId, m }) => m !== undefined && m.run_id === runId && m.ticket_id === ticketId && m.status === 'PASS')
    .map(({ runId, m }) => ({ runId, acIds: m!.ac_ids }));
}
