/**
 * Who holds a repo lock: a small owner record next to it (`<lock>.owner`, written atomically once
 * the lock is taken, removed before it is released), so a Controller that finds the lock held can
 * tell a live holder from one that died on this host (a crash, a SIGKILL) and take the lock over
 * at once instead of waiting for proper-lockfile's staleness.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { z } from 'zod';
import { atomicWrite } from '../util/atomic-write';

const ownerSchema = z.object({
  /** `hostname:pid`, the same tag cycle states and container labels carry. */
  owner: z.string(),
  host: z.string(),
  pid: z.number().int().positive(),
  /** The kernel's boot id: a pid only names the same process within one boot. */
  bootId: z.string().optional(),
  /** The pid namespace: a pid of another namespace (a container sharing the folder) is not ours to probe. */
  pidNs: z.string().optional(),
  /** The process start time (clock ticks since boot, /proc/<pid>/stat field 22): a reused pid has another. */
  startTime: z.string().optional(),
  /** Which lock folder this record is for (`lockId`): a record left by a holder that exited is not about a newer lock. */
  lock: z.string().optional(),
  at: z.string(),
});
export type LockOwner = z.infer<typeof ownerSchema>;

function readTrim(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function pidNamespace(): string | undefined {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return undefined;
  }
}

/** A process's state letter and start time from /proc/<pid>/stat, or null without /proc (or the process). */
export function procStat(pid: number): { state: string; startTime: string } | null {
  const text = readTrim(`/proc/${pid}/stat`);
  if (!text) return null;
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  return state && startTime ? { state, startTime } : null;
}

/** This process as a lock owner. */
export function currentOwner(): LockOwner {
  const bootId = readTrim('/proc/sys/kernel/random/boot_id');
  const pidNs = pidNamespace();
  const startTime = procStat(process.pid)?.startTime;
  return {
    owner: `${os.hostname()}:${process.pid}`,
    host: os.hostname(),
    pid: process.pid,
    ...(bootId ? { bootId } : {}),
    ...(pidNs ? { pidNs } : {}),
    ...(startTime ? { startTime } : {}),
    at: new Date().toISOString(),
  };
}

/** A lock folder's identity (inode and birth time): a removed and re-made folder has another. */
export function lockId(lockDir: string): string | undefined {
  try {
    const st = fs.statSync(lockDir, { bigint: true });
    return `${st.ino}:${st.birthtimeNs}`;
  } catch {
    return undefined;
  }
}

export async function writeLockOwner(file: string, owner: LockOwner): Promise<void> {
  await atomicWrite(file, JSON.stringify(owner) + '\n');
}

/** The owner record, or null when there is none or it is unreadable (then nobody can say the holder is dead). */
export function readLockOwner(file: string): LockOwner | null {
  const text = readTrim(file);
  if (!text) return null;
  try {
    const parsed = ownerSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * Why `owner` is certainly gone, or null when it may live (or is not ours to judge). Only an owner
 * of this host, boot and pid namespace is judged: its pid does not exist (ESRCH), is a zombie, or
 * is a different process now (another start time). EPERM means a live process of another user.
 */
export function deadOwnerReason(owner: LockOwner): string | null {
  const me = currentOwner();
  if (owner.host !== me.host || owner.pid === me.pid) return null;
  // Another boot (or a machine of the same name sharing the folder): its lock goes stale as before.
  if ((owner.bootId ?? '') !== (me.bootId ?? '') || (owner.pidNs ?? '') !== (me.pidNs ?? '')) return null;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH' ? `process ${owner.pid} no longer exists` : null;
  }
  const st = procStat(owner.pid);
  if (st && (st.state === 'Z' || st.state === 'X')) return `process ${owner.pid} has exited`;
  if (st && owner.startTime && st.startTime !== owner.startTime) return `pid ${owner.pid} now belongs to another process`;
  return null;
}
