/**
 * Room in the scratch directory (Lambda's /tmp: 10 GiB at most) for the objects a step brings from the bucket.
 *
 * A step whose objects cannot fit is refused before its first download, with the sizes an operator needs,
 * instead of failing half way with ENOSPC. The case in view is a period too long for one function: the render
 * job's partner window is 30 days of facts, about 13 GiB for a network of 14.4 M alerts a day (476 MB of
 * Parquet per day, bench/lake.ts). A period that large belongs on Athena.
 *
 * What the engine spills is not counted: DuckDB reports that itself if it runs out.
 */
import { statfs } from 'node:fs/promises';
import { formatBytes } from '../util/bytes.js';

/** The free bytes of the file system that holds a directory: freeBytes, or a stand-in in tests of a full disk. */
export type FreeSpace = (dir: string) => Promise<number>;

export class ScratchTooSmallError extends Error {
  readonly code = 'scratch_too_small';

  constructor(
    readonly neededBytes: number,
    readonly freeBytes: number,
    what: string,
    dir: string,
  ) {
    super(
      `${what} ${formatBytes(neededBytes)} in ${dir}, which has ${formatBytes(freeBytes)} free: nothing was downloaded. ` +
        'A period this long is for Athena (query and report with --stack).',
    );
  }
}

/** Space left for downloads: a tenth of what is free stays for the engine's own files. */
export const SCRATCH_HEADROOM = 0.1;

/** Free bytes of the file system that holds `dir` (for an unprivileged process). */
export const freeBytes: FreeSpace = async (dir) => {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
};

/**
 * Refuses (ScratchTooSmallError) when `neededBytes` would not fit in `dir` with the headroom kept; `what` starts
 * the message ("the facts of 2026-11-03 to 2026-12-02 need").
 */
export async function ensureScratchRoom(dir: string, neededBytes: number, what: string, free: FreeSpace = freeBytes): Promise<void> {
  const available = await free(dir);
  if (neededBytes > available * (1 - SCRATCH_HEADROOM)) throw new ScratchTooSmallError(neededBytes, available, what, dir);
}

