/**
 * Directory narrowing (issue 15: "the smallest glob that covers the evidence"). The evidence is a
 * list of files, and the smallest glob covering a list of files is the files themselves; a folder
 * glob would also let the Worker change files nobody named. So files stay files, with one
 * exception that keeps plans readable: when the candidates of one class are EVERY tracked file of
 * a folder, and there are more than `COLLAPSE_MIN_FILES` of them, they become `folder/**` (the
 * glob then admits exactly the evidence plus files created there). The outermost such folder wins.
 */
import { dirName, type FileIndex, filesUnder, isGlob } from './file-index';

/** A folder is written as `folder/**` only above this many files, all of them candidates. */
export const COLLAPSE_MIN_FILES = 20;
/** Reasons kept on a collapsed folder before "+N more". */
const MAX_FOLDER_REASONS = 5;

/** Entries of one class: path or glob → reasons. */
export type Reasoned = Map<string, string[]>;

/** Every folder above the candidate files, outermost first. */
function ancestors(paths: Iterable<string>): string[] {
  const dirs = new Set<string>();
  for (const p of paths) for (let d = dirName(p); d && !dirs.has(d); d = dirName(d)) dirs.add(d);
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
}

/** The reasons of a collapsed folder: what it covers, then the distinct reasons of its files. */
function folderReasons(dir: string, count: number, members: string[][]): string[] {
  const distinct = [...new Set(members.flat())];
  const shown = distinct.slice(0, MAX_FOLDER_REASONS);
  if (distinct.length > shown.length) shown.push(`+${distinct.length - shown.length} more reasons`);
  return [`all ${count} tracked files of ${dir}/ are candidates`, ...shown];
}

/** Collapse whole, large folders of file entries into `folder/**` (see the module comment). */
export function narrow(entries: Reasoned, index: FileIndex): Reasoned {
  const files = [...entries.keys()].filter((p) => !isGlob(p) && index.files.has(p));
  const collapsed: string[] = [];
  for (const dir of ancestors(files)) {
    if (collapsed.some((c) => dir.startsWith(`${c}/`))) continue;
    const inside = files.filter((p) => p.startsWith(`${dir}/`));
    if (inside.length <= COLLAPSE_MIN_FILES || inside.length !== filesUnder(index, dir)) continue;
    collapsed.push(dir);
  }
  if (collapsed.length === 0) return entries;
  const out: Reasoned = new Map();
  const members = new Map<string, string[][]>(collapsed.map((d) => [d, []]));
  for (const [p, reasons] of entries) {
    const dir = collapsed.find((d) => p.startsWith(`${d}/`) && index.files.has(p));
    if (dir) members.get(dir)?.push(reasons);
    else out.set(p, reasons);
  }
  for (const [dir, list] of members) out.set(`${dir}/**`, folderReasons(dir, list.length, list));
  return out;
}
