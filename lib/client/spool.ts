/**
 * The push spool: batches that could not be delivered, kept on disk with their original Idempotency-Key,
 * so that a later `push` sends exactly the same bytes and the service counts them once.
 *
 * Each batch is two files, each written atomically (temp file, fsync, rename, fsync of the directory): the
 * body, then its metadata. The metadata file is the commit point — a batch is in the spool once its `.json`
 * exists — so a crash between the two leaves only a stray body, which `sweep()` removes later. Requests are
 * signed when sent, not when spooled: a batch spooled for days is not refused as stale, and one spooled
 * before a key rotation goes out signed with the new key.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from './atomic-file.js';
import type { PreparedBatch } from './sign-batch.js';

interface SpoolMeta {
  idempotencyKey: string;
  contentType: PreparedBatch['contentType'];
  gzip: boolean;
  lines: number;
  spooledAt?: string;
  /** SHA-256 (hex) of the body file; entries spooled by older versions have none. */
  bodySha256?: string;
}

/** Where damaged entries are moved, inside the spool dir (list() never looks into it). */
export const QUARANTINE_DIR = 'quarantine';

/**
 * A spool entry that cannot be sent as it is: its metadata is unreadable, or its body is missing or not the
 * bytes that were spooled. It is moved aside rather than retried forever or sent and refused.
 */
export class DamagedSpoolEntry extends Error {
  constructor(
    readonly entry: string,
    readonly reason: string,
  ) {
    super(`spool entry ${entry}: ${reason}`);
  }
}

/** What was done with a damaged entry: where it went and why. */
export interface QuarantinedEntry {
  /** The entry's metadata file, where it was. */
  entry: string;
  /** The directory it was moved to. */
  movedTo: string;
  reason: string;
}

/** The warning for a quarantined entry: what happened, where it is, what to do. */
export function quarantineWarning(q: QuarantinedEntry): string {
  return `damaged spool entry ${q.entry} (${q.reason}) moved to ${q.movedTo}; its batch was not sent. ` +
    'If the log it came from still exists, push that log again (batches already counted are recognised as duplicates), ' +
    'then delete the quarantined files.';
}

const KEY_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The metadata as written by add(), or why it is not. */
function parseMeta(text: string): SpoolMeta | string {
  let m: Partial<SpoolMeta>;
  try {
    m = JSON.parse(text) as Partial<SpoolMeta>;
  } catch {
    return 'its metadata is not valid JSON';
  }
  if (m === null || typeof m !== 'object') return 'its metadata is not a JSON object';
  if (typeof m.idempotencyKey !== 'string' || !KEY_PATTERN.test(m.idempotencyKey)) return 'its metadata has no valid idempotencyKey';
  if (m.contentType !== 'application/x-ndjson' && m.contentType !== 'application/json') return 'its metadata has no valid contentType';
  if (typeof m.gzip !== 'boolean') return 'its metadata has no gzip flag';
  if (typeof m.lines !== 'number' || !Number.isInteger(m.lines) || m.lines < 0) return 'its metadata has no valid line count';
  if (m.bodySha256 !== undefined && typeof m.bodySha256 !== 'string') return 'its metadata has an invalid bodySha256';
  return m as SpoolMeta;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

const NAME = /^\d{15}-\d{6}-(.+)$/;
/** Leftovers younger than this may belong to a writer that is still between its two writes. */
const STRAY_AGE_MS = 60 * 60_000;

export class Spool {
  private seq = 0;
  /** Key prefixes present in the spool, loaded on first add: spooling the same batch twice is pointless. */
  private keys: Set<string> | undefined;

  constructor(readonly dir: string) {}

  /** Adds a batch unless one with the same key is already spooled. Returns false for such a duplicate. */
  async add(batch: PreparedBatch): Promise<boolean> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const keys = (this.keys ??= new Set((await this.list()).map((name) => NAME.exec(name)?.[1] ?? name)));
    const keyPart = batch.idempotencyKey.slice(0, 64);
    if (keys.has(keyPart)) return false;
    // Names sort in the order batches were spooled, so the log is replayed roughly in order.
    const name = `${Date.now().toString().padStart(15, '0')}-${String(this.seq++ % 1_000_000).padStart(6, '0')}-${keyPart}`;
    const meta: SpoolMeta = {
      idempotencyKey: batch.idempotencyKey,
      contentType: batch.contentType,
      gzip: batch.gzip,
      lines: batch.lines,
      spooledAt: new Date().toISOString(),
      bodySha256: sha256(batch.body),
    };
    await writeFileAtomic(join(this.dir, `${name}.body`), batch.body);
    await writeFileAtomic(join(this.dir, `${name}.json`), JSON.stringify(meta));
    keys.add(keyPart);
    return true;
  }

  /** Spooled batches, oldest first. */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir))
        .filter((f) => f.endsWith('.json') && NAME.test(f.slice(0, -'.json'.length)))
        .sort()
        .map((f) => f.slice(0, -'.json'.length));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  /**
   * A spooled batch; undefined when the entry is gone (a concurrent drain sent it). Throws DamagedSpoolEntry
   * when it cannot be sent as spooled.
   */
  async read(name: string): Promise<PreparedBatch | undefined> {
    const metaFile = join(this.dir, `${name}.json`);
    const text = await readFile(metaFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) return undefined;
    const meta = parseMeta(text);
    if (typeof meta === 'string') throw new DamagedSpoolEntry(metaFile, meta);
    let body: Buffer;
    try {
      body = await readFile(join(this.dir, `${name}.body`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      // A concurrent drain removes the metadata before the body: if the metadata is gone too, so is the batch.
      if (!(await exists(metaFile))) return undefined;
      throw new DamagedSpoolEntry(metaFile, 'its body file is missing');
    }
    if (meta.bodySha256 !== undefined && sha256(body) !== meta.bodySha256) {
      throw new DamagedSpoolEntry(metaFile, `its body file is not the one spooled (${body.length} bytes, checksum differs)`);
    }
    return { idempotencyKey: meta.idempotencyKey, contentType: meta.contentType, gzip: meta.gzip, lines: meta.lines, body };
  }

  /**
   * Moves an entry's files (those that exist) into `<spool dir>/quarantine/`, so that later drains pass it by
   * and an operator can look at it. The metadata goes last: until then the entry is still in the spool.
   */
  async quarantine(name: string, reason: string): Promise<QuarantinedEntry> {
    const target = join(this.dir, QUARANTINE_DIR);
    await mkdir(target, { recursive: true, mode: 0o700 });
    for (const suffix of ['.body', '.json']) {
      await rename(join(this.dir, `${name}${suffix}`), join(target, `${name}${suffix}`)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    await syncDirectory(this.dir);
    this.keys?.delete(NAME.exec(name)?.[1] ?? name);
    return { entry: join(this.dir, `${name}.json`), movedTo: target, reason };
  }

  async remove(name: string): Promise<void> {
    // Metadata first: once it is gone the batch is no longer in the spool, whatever happens to the body.
    await rm(join(this.dir, `${name}.json`), { force: true });
    await rm(join(this.dir, `${name}.body`), { force: true });
    this.keys?.delete(NAME.exec(name)?.[1] ?? name);
  }

  /** Removes what crashed writers left behind: temp files and bodies whose metadata was never written. */
  async sweep(now = Date.now()): Promise<number> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch {
      return 0;
    }
    const names = new Set(files);
    let removed = 0;
    for (const f of files) {
      const stray = f.endsWith('.tmp') || (f.endsWith('.body') && !names.has(`${f.slice(0, -'.body'.length)}.json`));
      if (!stray) continue;
      try {
        if (now - (await stat(join(this.dir, f))).mtimeMs < STRAY_AGE_MS) continue;
        await rm(join(this.dir, f), { force: true });
        removed++;
      } catch {
        /* gone meanwhile */
      }
    }
    return removed;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
