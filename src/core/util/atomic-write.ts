import writeFileAtomic from 'write-file-atomic';

/**
 * Every write the Controller makes to the user's repository goes through here: a temp file in the
 * same directory, fsync, rename. A kill at any point leaves either the old or the new file.
 */
export async function atomicWrite(file: string, data: string | Buffer): Promise<void> {
  await writeFileAtomic(file, data, { fsync: true });
}

/** Synchronous twin for the rare caller that cannot await (process exit handlers). */
export function atomicWriteSync(file: string, data: string | Buffer): void {
  writeFileAtomic.sync(file, data, { fsync: true });
}
