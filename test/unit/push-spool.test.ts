/**
 * Damaged spool entries (issue 11, item 1): unreadable metadata, a missing body or a body that is not the one
 * spooled is moved to the quarantine dir and reported, and every other entry — and new input — still flows.
 * Real files; the service is a fake fetch that counts lines once per Idempotency-Key.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sensorMain } from '../../lib/cli/sensor-client.js';
import { prepareBatch } from '../../lib/client/delivery.js';
import { pushLog } from '../../lib/client/push.js';
import { QUARANTINE_DIR, quarantineWarning, Spool, type QuarantinedEntry } from '../../lib/client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';

const pair = generateSensorKeyPair();
const key = privateKeyFromPem(pair.privateKeyPem);

function fakeService() {
  const counted = new Map<string, string[]>();
  const impl = (async (_url: URL, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    const raw = Buffer.from(init.body as Uint8Array);
    const lines = (headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8').split('\n').filter(Boolean);
    const k = headers['idempotency-key']!;
    const duplicate = counted.has(k);
    if (!duplicate) counted.set(k, lines);
    return new Response(JSON.stringify({ accepted: duplicate ? 0 : lines.length, rejected: 0, skipped: 0, duplicate, writeUnits: 2 }), { status: duplicate ? 200 : 202 });
  }) as unknown as typeof fetch;
  return { impl, lines: () => [...counted.values()].flat() };
}

const alert = (i: number) => JSON.stringify({ event_type: 'alert', n: i });

let dir: string;
let spool: Spool;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'push-spool-'));
  spool = new Spool(join(dir, 'spool'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Five spooled batches of two alerts each (0–1, 2–3, …), in spool order. */
async function spoolFive(): Promise<string[]> {
  for (let b = 0; b < 5; b++) await spool.add(prepareBatch('s', [alert(2 * b), alert(2 * b + 1)], 'eve', true));
  const names = await spool.list();
  expect(names).toHaveLength(5);
  return names;
}

const options = (impl: typeof fetch, quarantined: QuarantinedEntry[] = []) => ({
  endpoint: 'http://127.0.0.1:9',
  sensor: 's',
  privateKey: key,
  batchSize: 100,
  retryForMs: 0,
  spool,
  fetchImpl: impl,
  onQuarantined: (q: QuarantinedEntry) => quarantined.push(q),
});

describe('a damaged spool entry', () => {
  it('unreadable metadata, a missing body and a truncated body are quarantined; the rest and new input are sent', async () => {
    const names = await spoolFive();
    await writeFile(join(spool.dir, `${names[1]}.json`), 'GARBAGE{{{');
    await rm(join(spool.dir, `${names[2]}.body`));
    const third = join(spool.dir, `${names[3]}.body`);
    await truncate(third, Math.floor((await readFile(third)).length / 2));

    const service = fakeService();
    const input = join(dir, 'new.json');
    await writeFile(input, `${alert(100)}\n${alert(101)}\n`);
    const seen: QuarantinedEntry[] = [];
    const summary = await pushLog(input, options(service.impl, seen));

    // Entries 0 and 4 and the new input went through; nothing of the damaged ones was sent.
    expect(service.lines().sort()).toEqual([alert(0), alert(1), alert(8), alert(9), alert(100), alert(101)].sort());
    expect(summary).toMatchObject({ accepted: 6, drainedBatches: 2, failedBatches: 0 });
    expect(summary.quarantined.map((q) => q.entry)).toEqual([1, 2, 3].map((i) => join(spool.dir, `${names[i]}.json`)));
    expect(summary.quarantined.map((q) => q.reason)).toEqual([
      'its metadata is not valid JSON',
      'its body file is missing',
      expect.stringMatching(/^its body file is not the one spooled/),
    ]);
    expect(seen).toEqual(summary.quarantined);

    // Moved, not deleted: the files are in the quarantine dir for the operator, and the spool itself is empty.
    const qdir = join(spool.dir, QUARANTINE_DIR);
    expect(summary.quarantined.every((q) => q.movedTo === qdir)).toBe(true);
    expect((await readdir(qdir)).sort()).toEqual(
      [`${names[1]}.body`, `${names[1]}.json`, `${names[2]}.json`, `${names[3]}.body`, `${names[3]}.json`].sort(),
    );
    expect(await spool.list()).toEqual([]);

    // The warning names the file and says what to do.
    const warning = quarantineWarning(summary.quarantined[0]!);
    expect(warning).toContain(join(spool.dir, `${names[1]}.json`));
    expect(warning).toContain(qdir);
    expect(warning).toMatch(/push that log again/);

    // The next push does not trip over it again.
    const again = await pushLog(undefined, options(service.impl));
    expect(again.quarantined).toEqual([]);
  });

  it('metadata that is JSON but not an entry is quarantined too', async () => {
    const names = await spoolFive();
    await writeFile(join(spool.dir, `${names[0]}.json`), JSON.stringify({ idempotencyKey: 'x y', contentType: 'text/plain', gzip: true, lines: 2 }));
    const service = fakeService();
    const summary = await pushLog(undefined, options(service.impl));
    expect(summary.drainedBatches).toBe(4);
    expect(summary.quarantined).toHaveLength(1);
    expect(summary.quarantined[0]!.reason).toBe('its metadata has no valid idempotencyKey');
    expect(service.lines()).toHaveLength(8);
  });

  it('entries spooled by an older version (no body checksum) are still sent', async () => {
    const names = await spoolFive();
    const metaFile = join(spool.dir, `${names[0]}.json`);
    const { bodySha256: _dropped, ...old } = JSON.parse(await readFile(metaFile, 'utf8')) as Record<string, unknown>;
    await writeFile(metaFile, JSON.stringify(old));
    const service = fakeService();
    const summary = await pushLog(undefined, options(service.impl));
    expect(summary).toMatchObject({ drainedBatches: 5, accepted: 10, quarantined: [] });
  });
});

describe('push (the command) with a damaged spool entry', () => {
  it('warns naming the entry and what to do, sends the rest, and exits 1; the next run exits 0', async () => {
    const names = await spoolFive();
    await writeFile(join(spool.dir, `${names[2]}.json`), '{"idempotencyKey":');
    const received: string[] = [];
    const server = createServer((req, res) => {
      received.push(String(req.headers['idempotency-key']));
      req.resume();
      req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":2,"rejected":0,"skipped":0,"duplicate":false,"writeUnits":2}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const keyFile = join(dir, 'k.pem');
    await writeFile(keyFile, pair.privateKeyPem);
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((t) => (stderr.push(String(t)), true));
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const args = ['push', '--sensor', 's', '--key', keyFile, '--endpoint', endpoint, '--spool-dir', spool.dir, '--data-dir', dir, '--json'];
      expect(await sensorMain(args)).toBe(1);
      expect(received).toHaveLength(4);
      const text = stderr.join('');
      expect(text).toContain(`warning: damaged spool entry ${join(spool.dir, `${names[2]}.json`)} (its metadata is not valid JSON) moved to ${join(spool.dir, QUARANTINE_DIR)}`);
      const summary = JSON.parse(String(stdout.mock.calls.at(-1)![0])) as { quarantined: QuarantinedEntry[]; drainedBatches: number };
      expect(summary.drainedBatches).toBe(4);
      expect(summary.quarantined).toHaveLength(1);
      expect(await sensorMain(args)).toBe(0);
    } finally {
      vi.restoreAllMocks();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
