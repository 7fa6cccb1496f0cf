/** Crash-safe files: the spool and the follower's checkpoint. */
import { mkdtemp, open, readdir, readFile, rm, utimes, writeFile, rename, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../lib/client/atomic-file.js';
import { identify, isSameFile, readCheckpoint, writeCheckpoint, type Checkpoint } from '../../lib/client/checkpoint.js';
import { prepareBatch } from '../../lib/client/delivery.js';
import { Spool } from '../../lib/client/spool.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'push-cp-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the content whole and leaves no temp file', async () => {
    const file = join(dir, 'x.json');
    await writeFileAtomic(file, 'old');
    await writeFileAtomic(file, 'new content');
    expect(await readFile(file, 'utf8')).toBe('new content');
    expect(await readdir(dir)).toEqual(['x.json']);
  });

  it('many concurrent writers: the file always holds one complete version', async () => {
    const file = join(dir, 'x.json');
    const versions = Array.from({ length: 20 }, (_, i) => JSON.stringify({ v: i, pad: 'x'.repeat(10_000) }));
    const reads: string[] = [];
    await Promise.all([
      ...versions.map((v) => writeFileAtomic(file, v)),
      (async () => {
        for (let i = 0; i < 20; i++) reads.push(await readFile(file, 'utf8').catch(() => ''));
      })(),
    ]);
    for (const r of [...reads.filter(Boolean), await readFile(file, 'utf8')]) expect(versions).toContain(r);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('checkpoint', () => {
  it('round-trips; a crashed writer\'s temp file does not change what is read', async () => {
    const log = join(dir, 'eve.json');
    await writeFile(log, 'line one\nline two\n');
    const fh = await open(log, 'r');
    const cp: Checkpoint = { version: 1, sensor: 's', path: log, file: await identify(fh), offset: 9, pending: { end: 18 }, format: 'eve', updatedAt: new Date().toISOString() };
    await fh.close();
    const file = join(dir, 'follow', 's.json');
    await writeCheckpoint(file, cp);
    await writeFile(`${file}.999.deadbeef.tmp`, '{"version":1,"offset":'); // torn write of a crashed process
    expect(await readCheckpoint(file)).toEqual(cp);
    expect(await readCheckpoint(join(dir, 'none.json'))).toBeUndefined();
  });

  it('knows a file by inode and first bytes: renamed is the same file, a successor with the old inode is not', async () => {
    const log = join(dir, 'eve.json');
    await writeFile(log, 'first line of the old file\n');
    let fh = await open(log, 'r');
    const id = await identify(fh);
    await fh.close();
    await rename(log, `${log}.1`);
    fh = await open(`${log}.1`, 'r');
    expect(await isSameFile(fh, id)).toBe(true);
    await fh.close();
    await unlink(`${log}.1`);
    // Whether or not the kernel hands out the same inode again, different first bytes are a different file.
    await writeFile(log, 'first line of the new file!\n');
    fh = await open(log, 'r');
    expect(await isSameFile(fh, id)).toBe(false);
    expect(await isSameFile(fh, { ...id, ino: String((await fh.stat({ bigint: true })).ino) })).toBe(false);
    await fh.close();
  });
});

describe('Spool', () => {
  const batch = (n: number) => prepareBatch('s', [`{"n":${n}}`], 'eve', true);

  it('keeps batches in order with their keys and bytes, once per key', async () => {
    const spool = new Spool(join(dir, 'spool'));
    expect(await spool.list()).toEqual([]);
    expect(await spool.add(batch(1))).toBe(true);
    expect(await spool.add(batch(2))).toBe(true);
    expect(await spool.add(batch(1))).toBe(false);
    const names = await spool.list();
    expect(names).toHaveLength(2);
    expect(await spool.read(names[0]!)).toEqual(batch(1));
    expect(await spool.read(names[1]!)).toEqual(batch(2));
    // Another process (a fresh Spool) sees the same and also refuses the duplicate.
    expect(await new Spool(join(dir, 'spool')).add(batch(2))).toBe(false);
    await spool.remove(names[0]!);
    expect(await spool.list()).toEqual([names[1]]);
  });

  it('a body without metadata (crash between the two writes) is not a batch, and is swept once old', async () => {
    const spool = new Spool(join(dir, 'spool'));
    await spool.add(batch(1));
    const stray = join(dir, 'spool', '000000000000001-000000-abc.body');
    const tmp = join(dir, 'spool', '000000000000001-000000-abc.json.1.ff.tmp');
    await writeFile(stray, 'x');
    await writeFile(tmp, 'x');
    expect(await spool.list()).toHaveLength(1);
    expect(await spool.sweep()).toBe(0); // young: may belong to a writer in progress
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(stray, old, old);
    await utimes(tmp, old, old);
    expect(await spool.sweep()).toBe(2);
    expect((await readdir(join(dir, 'spool'))).length).toBe(2);
  });
});
