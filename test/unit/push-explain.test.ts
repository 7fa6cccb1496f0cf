/**
 * `push` explains itself (issue 11, item 9): the service's reasons for rejected lines reach the operator with
 * the input's line numbers (and all of them the --json summary); a logrotate-compressed log is read like the
 * plain one; a missing or unreadable key file is a usage error (exit 2) that says what to do.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../lib/cli/args.js';
import { readPrivateKey, rejectionLines } from '../../lib/cli/commands/push.js';
import { sensorMain } from '../../lib/cli/sensor-client.js';
import { pushLog } from '../../lib/client/push.js';
import { Spool } from '../../lib/client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../../lib/signing/keys.js';

const key = privateKeyFromPem(generateSensorKeyPair().privateKeyPem);

/**
 * Rejects every line without "seconds" the way the service does: in a 202 receipt when some lines are valid,
 * as a 400 invalid_alert problem when none is. Line numbers are 1-based within the batch.
 */
function snortLikeService() {
  const bodies: string[] = [];
  const impl = (async (_url: URL, init: RequestInit) => {
    const headers = init.headers as Record<string, string>;
    const raw = Buffer.from(init.body as Uint8Array);
    const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    bodies.push(text);
    const lines = text.split('\n').filter(Boolean);
    const rejectedLines = lines.flatMap((l, i) => (l.includes('"seconds"') ? [] : [{ line: i + 1, reason: "timestamp has no year; add 'seconds' to alert_json fields" }]));
    const accepted = lines.length - rejectedLines.length;
    if (accepted === 0) {
      return new Response(JSON.stringify({ code: 'invalid_alert', detail: `none of the ${lines.length} alerts in the batch is valid`, rejected: lines.length, rejectedLines }), { status: 400 });
    }
    return new Response(JSON.stringify({ accepted, rejected: rejectedLines.length, skipped: 0, duplicate: false, writeUnits: 2, rejectedLines }), { status: 202 });
  }) as unknown as typeof fetch;
  return { impl, bodies };
}

const good = (i: number) => JSON.stringify({ seconds: 1_764_000_000 + i, src_addr: '198.51.100.7', dst_port: 445, proto: 'TCP' });
const bad = (i: number) => JSON.stringify({ timestamp: `11/21-10:00:${String(i).padStart(2, '0')}.000000`, src_addr: '198.51.100.7', dst_port: 445, proto: 'TCP' });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'push-explain-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

const opts = (impl: typeof fetch, batchSize: number) => ({
  endpoint: 'http://127.0.0.1:9',
  sensor: 's',
  privateKey: key,
  format: 'snort' as const,
  batchSize,
  retryForMs: 0,
  spool: new Spool(join(dir, 'spool')),
  fetchImpl: impl,
});

describe('the service\'s rejection reasons', () => {
  it('are kept with the input line numbers, from receipts and from a refused batch', async () => {
    // Input lines 1–9 (a blank line at 3 is not sent, so batch and input numbers differ):
    // batch 1 = input 1,2,4 (4 bad); batch 2 = input 5,6,7 (all bad → 400); batch 3 = input 8,9 (9 bad).
    const input = [good(1), good(2), '', bad(4), bad(5), bad(6), bad(7), good(8), bad(9)];
    const file = join(dir, 'alert_json.txt');
    await writeFile(file, `${input.join('\n')}\n`);
    const service = snortLikeService();
    const summary = await pushLog(file, opts(service.impl, 3));

    expect(summary).toMatchObject({ batches: 3, accepted: 3, rejected: 2, failedBatches: 1 });
    expect(summary.errors[0]).toMatchObject({ status: 400, code: 'invalid_alert' });
    expect(summary.rejections.map((r) => [r.inputLine, r.line])).toEqual([[4, 3], [5, 1], [6, 2], [7, 3], [9, 2]]);
    expect(summary.rejections.every((r) => r.reason.includes("add 'seconds'"))).toBe(true);
    expect(summary.rejectionsOmitted).toBe(0);

    const printed = rejectionLines(summary, file);
    expect(printed[0]).toBe(`rejected: ${file} line 4: timestamp has no year; add 'seconds' to alert_json fields`);
    expect(printed).toHaveLength(5);
  });

  it('prints the first ten and says how many more the --json summary lists', async () => {
    const file = join(dir, 'many.txt');
    await writeFile(file, `${Array.from({ length: 25 }, (_, i) => (i === 0 ? good(0) : bad(i))).join('\n')}\n`);
    const summary = await pushLog(file, opts(snortLikeService().impl, 100));
    expect(summary.rejections).toHaveLength(24);
    const printed = rejectionLines(summary, file);
    expect(printed).toHaveLength(11);
    expect(printed.at(-1)).toBe('(14 more rejected lines; --json lists them)');
  });
});

describe('a gzip-compressed log', () => {
  it('is decompressed, from a file (two gzip members, as logrotate may leave) and from stdin', async () => {
    const lines = Array.from({ length: 6 }, (_, i) => good(i));
    const plain = `${lines.join('\n')}\n`;
    const file = join(dir, 'eve.json.2.gz');
    await writeFile(file, Buffer.concat([gzipSync(`${lines.slice(0, 4).join('\n')}\n`), gzipSync(`${lines.slice(4).join('\n')}\n`)]));

    const fromFile = snortLikeService();
    const summary = await pushLog(file, opts(fromFile.impl, 100));
    expect(summary).toMatchObject({ accepted: 6, rejected: 0, failedBatches: 0 });
    expect(fromFile.bodies).toEqual([plain]);

    const fromStdin = snortLikeService();
    await pushLog(Readable.from([gzipSync(plain)]), opts(fromStdin.impl, 100));
    expect(fromStdin.bodies).toEqual([plain]);
  });

  it('a damaged one is an error that names the input, not a batch of binary lines', async () => {
    const file = join(dir, 'broken.gz');
    await writeFile(file, gzipSync(`${good(1)}\n`.repeat(50)).subarray(0, 30));
    const service = snortLikeService();
    await expect(pushLog(file, opts(service.impl, 100))).rejects.toThrow(`${file} starts like gzip but cannot be decompressed`);
    expect(service.bodies).toEqual([]);
  });
});

describe('the key file', () => {
  it('missing, a directory or not a key: a usage error that says what to do', async () => {
    const missing = join(dir, 'nope.pem');
    await expect(readPrivateKey(missing)).rejects.toThrow(UsageError);
    await expect(readPrivateKey(missing)).rejects.toThrow(`--key ${missing}: no such file (create a key with \`alertgraph keygen --out ${missing}\`)`);
    await expect(readPrivateKey(dir)).rejects.toThrow(/is a directory/);
    const junk = join(dir, 'junk.pem');
    await writeFile(junk, 'not a key');
    await expect(readPrivateKey(junk)).rejects.toThrow(/not an Ed25519 private key/);
  });

  it('push with a missing key file exits 2 with that message', async () => {
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => (stderr.push(String(s)), true));
    const log = join(dir, 'eve.json');
    await writeFile(log, `${good(1)}\n`);
    const code = await sensorMain(['push', log, '--sensor', 's', '--key', join(dir, 'nope.pem'), '--endpoint', 'http://127.0.0.1:9', '--data-dir', dir]);
    expect(code).toBe(2);
    expect(stderr.join('')).toContain('no such file (create a key with');
  });
});
