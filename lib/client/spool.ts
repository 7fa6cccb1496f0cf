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
import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import type { PreparedBatch } from './sign-batch.js';

interface SpoolMeta {
  idempotencyKey: string;
  contentType: PreparedBatch['contentType'];
  gzip: boolean;
  lines: number;
  spooledAt?: string;
}

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

  async read(name: string): Promise<PreparedBatch> {
    const meta = JSON.parse(await readFile(join(this.dir, `${name}.json`), 'utf8')) as SpoolMeta;
    const body = await readFile(join(this.dir, `${name}.body`));
    return { idempotencyKey: meta.idempotencyKey, contentType: meta.contentType, gzip: meta.gzip, lines: meta.lines, body };
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
