/**
 * Crash-safe small files for the spool and the follower's checkpoint: a reader sees the old content or the
 * new, never a torn mix, and once the call returns the new content survives a power cut.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Write to a private temp file, fsync it, rename it over the target, then fsync the directory: the rename is
 * only durable once the directory entry is on disk (ext4 and XFS make no promise before that).
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string, mode = 0o600): Promise<void> {
  // Unique per writer: two processes (a follower and a manual push) may write into the same directory.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(path));
}

export async function syncDirectory(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some filesystems (and Windows) cannot fsync a directory; the rename itself has still happened.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}
