/**
 * Native input to `push` in both shapes — one alert per line, or one {"alerts":[…]} document (also
 * pretty-printed) — counted the same by the real ingest API over HTTP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushLog } from '../../lib/client/push.js';
import { Spool } from '../../lib/client/spool.js';
import { expandNativeDocument, looksLikeNativeDocument, NativeDocumentError } from '../../lib/client/native-document.js';
import { startHarness, type Harness, type TestSensor } from '../helpers/harness.js';

let h: Harness;
let sensor: TestSensor;
let dir: string;
const hour = Date.now() - 3_600_000;
const alerts = Array.from({ length: 7 }, (_, i) => ({
  time: new Date(hour + i * 1000).toISOString(),
  srcIp: `192.0.2.${i + 1}`,
  dstPort: [445, 22][i % 2],
  proto: 'tcp',
}));

beforeAll(async () => {
  h = await startHarness();
  sensor = await h.addSensor('s-native');
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-native-'));
});
afterAll(async () => {
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

async function push(file: string, format?: 'native') {
  return pushLog(file, { endpoint: h.url, sensor: sensor.id, privateKey: sensor.privateKey, format, batchSize: 3, retryForMs: 2_000, spool: new Spool(join(dir, 'spool')) });
}

describe('native input', () => {
  it('one {"alerts":[…]} document, compact or pretty-printed, with or without --format, counts like one alert per line', async () => {
    const lines = join(dir, 'lines.json');
    const compact = join(dir, 'compact.json');
    const pretty = join(dir, 'pretty.json');
    await writeFile(lines, alerts.map((a) => JSON.stringify(a)).join('\n'));
    await writeFile(compact, JSON.stringify({ alerts }));
    await writeFile(pretty, JSON.stringify({ alerts }, null, 2));

    const first = await push(lines, 'native');
    expect(first.accepted).toBe(7);
    expect(first.batches).toBe(3);
    // The same alerts in the same batches: recognised as already counted, whatever the file's shape.
    for (const [file, format] of [[compact, 'native'], [pretty, undefined]] as const) {
      const again = await push(file, format);
      expect(again.accepted).toBe(0);
      expect(again.duplicateBatches).toBe(3);
    }
    const today = new Date().toISOString().slice(0, 10);
    const totals = await h.totals([sensor.id], new Date(hour).toISOString().slice(0, 10), today);
    expect(Object.values(totals).reduce((a, b) => a + b, 0)).toBe(7);
  });

  it('recognises a document from its first bytes only, and refuses a broken one with a clear reason', async () => {
    expect(looksLikeNativeDocument('\n  { "alerts" : [')).toBe(true);
    expect(looksLikeNativeDocument('{"time":"2026-11-22T10:00:00Z","srcIp":"192.0.2.1","proto":"tcp"}')).toBe(false);
    expect(looksLikeNativeDocument('{"timestamp":"2026-11-22T10:00:00+0200","event_type":"alert"}')).toBe(false);
    const passthrough: Buffer[] = [];
    for await (const b of expandNativeDocument(Readable.from([Buffer.from('{"a":1}\n'), Buffer.from('{"b":2}\n')]), () => undefined)) passthrough.push(b);
    expect(Buffer.concat(passthrough).toString()).toBe('{"a":1}\n{"b":2}\n');
    const broken = expandNativeDocument(Readable.from([Buffer.from('{"alerts":[{"time":')]), () => undefined);
    await expect((async () => { for await (const _ of broken) { /* drain */ } })()).rejects.toThrow(NativeDocumentError);
  });
});
