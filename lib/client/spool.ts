/**
 * The push spool: batches that could not be delivered, kept on disk with their original Idempotency-Key,
 * so that a later `push` sends exactly the same bytes and the service counts them once.
 * Each batch is two files written atomically (temp file, fsync, rename): the body and its metadata.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PreparedBatch } from './sign-batch.js';

interface SpoolMeta {
  idempotencyKey: string;
  contentType: PreparedBatch['contentType'];
  gzip: boolean;
  lines: number;
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export class Spool {
  private seq = 0;
  constructor(readonly dir: string) {}

  async add(batch: PreparedBatch): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Names sort in the order batches were spooled, so the log is replayed in order.
    const name = `${Date.now().toString().padStart(15, '0')}-${String(this.seq++).padStart(6, '0')}-${batch.idempotencyKey.slice(0, 64)}`;
    const meta: SpoolMeta = { idempotencyKey: batch.idempotencyKey, contentType: batch.contentType, gzip: batch.gzip, lines: batch.lines };
    await writeAtomic(join(this.dir, `${name}.body`), batch.body);
    // The metadata file is written last: a batch exists in the spool once its .json does.
    await writeAtomic(join(this.dir, `${name}.json`), JSON.stringify(meta));
  }

  /** Spooled batches, oldest first. */
  async list(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => f.endsWith('.json')).sort().map((f) => f.slice(0, -'.json'.length));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async read(name: string): Promise<PreparedBatch> {
    const meta = JSON.parse(await readFile(join(this.dir, `${name}.json`), 'utf8')) as SpoolMeta;
    const body = await readFile(join(this.dir, `${name}.body`));
    return { ...meta, body };
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.dir, `${name}.json`), { force: true });
    await rm(join(this.dir, `${name}.body`), { force: true });
  }
}
