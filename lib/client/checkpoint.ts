/**
 * Where `push --follow` stands in its log, kept on disk so that a restarted follower neither re-sends nor
 * misses lines: the file's identity, the byte offset up to which every line was delivered or spooled, and —
 * while a batch is in flight — where that batch ends, so a restart re-creates exactly that batch (same
 * lines, same content-derived key) and a crash between sending and checkpointing counts once.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { InputFormat } from './batcher.js';

/** How much of a file's start identifies it, besides its inode (which a deleted file's successor may reuse). */
export const FINGERPRINT_BYTES = 1024;

export interface FileIdentity {
  /** st_dev and st_ino, as decimal strings (inode numbers may exceed 2^53). */
  dev: string;
  ino: string;
  /** SHA-256 of the file's first `headBytes` bytes (fewer while the file is younger than FINGERPRINT_BYTES). */
  headBytes: number;
  headHash: string;
}

export interface Checkpoint {
  version: 1;
  sensor: string;
  /** The path being followed (absolute), as given to the first run. */
  path: string;
  file: FileIdentity;
  /** Every line before this byte offset of `file` has been delivered or spooled. */
  offset: number;
  /** A batch covering [offset, pending.end) was cut and is being delivered. */
  pending?: { end: number };
  format?: InputFormat;
  updatedAt: string;
}

export async function readCheckpoint(file: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const cp = JSON.parse(text) as Checkpoint;
  if (cp.version !== 1 || typeof cp.offset !== 'number' || typeof cp.file?.ino !== 'string') {
    throw new Error(`${file} is not a follow checkpoint this version understands`);
  }
  return cp;
}

export async function writeCheckpoint(file: string, cp: Checkpoint): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(cp)}\n`);
}

async function headHash(fh: FileHandle, bytes: number): Promise<{ headBytes: number; headHash: string }> {
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    const { bytesRead } = await fh.read(buf, got, bytes - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return { headBytes: got, headHash: createHash('sha256').update(buf.subarray(0, got)).digest('hex') };
}

/** The identity of an open file, fingerprinting at most `limit` bytes of its start. */
export async function identify(fh: FileHandle, limit = FINGERPRINT_BYTES): Promise<FileIdentity> {
  const st = await fh.stat({ bigint: true });
  const head = await headHash(fh, Number(st.size < BigInt(limit) ? st.size : BigInt(limit)));
  return { dev: String(st.dev), ino: String(st.ino), ...head };
}

/**
 * Whether an open file is the one an identity describes: same device and inode, and the same first bytes
 * (a file that was deleted and replaced may get the old inode number back).
 */
export async function isSameFile(fh: FileHandle, id: FileIdentity): Promise<boolean> {
  const st = await fh.stat({ bigint: true });
  if (String(st.dev) !== id.dev || String(st.ino) !== id.ino) return false;
  if (st.size < BigInt(id.headBytes)) return false;
  const head = await headHash(fh, id.headBytes);
  return head.headHash === id.headHash;
}
