/**
 * A silent sensor (DESIGN §15) through the real ingest and render job, with the render's clock injected: a
 * sensor whose last batch is more than 2 hours old gets one `silent` warning; judging again raises no second
 * one; its next batch (a heartbeat) clears it. Silent warnings never reach the partner objects.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3Client } from '../../lib/local/aws-clients.js';
import { PARTNER_WARNINGS_KEYS } from '../../lib/publish/layout.js';
import { utcDay } from '../../lib/util/days.js';
import { warningId } from '../../lib/warnings/model.js';
import { WarningStore } from '../../lib/warnings/store.js';
import { eveAlert } from '../helpers/eve.js';
import { harnessRenderService, ndjsonBatch, postBatch, startHarness, type Harness, type TestSensor } from '../helpers/harness.js';

const HOUR = 3_600_000;
let h: Harness;
let sensor: TestSensor;
let quiet: TestSensor;
let store: WarningStore;

beforeAll(async () => {
  // Ingest refreshes a sensor's last-seen mark at most once per quarter of its silence threshold (lib/ingest/
  // seen.ts): 4 s here, so the heartbeat sent moments after the first batch refreshes it. The render job judges
  // with its own threshold (the 2 hours of the design) on its injected clock.
  h = await startHarness({ config: { silentAfterSeconds: 4 } });
  sensor = await h.addSensor('silent-a', { deployedAt: utcDay(Date.now()) });
  // Registered but never sent anything: not started, so never silent.
  quiet = await h.addSensor('silent-never', { deployedAt: utcDay(Date.now()) });
  store = new WarningStore(h.lake);
}, 60_000);
afterAll(async () => h?.close());

const silent = async () => (await store.list()).filter((w) => w.kind === 'silent');

describe('silent sensors', () => {
  it('one warning after more than 2 hours without a batch, cleared by the next heartbeat', async () => {
    expect((await postBatch(h.url, sensor, ndjsonBatch(sensor.id, [eveAlert({ time: Date.now() - 60_000 })]))).status).toBe(202);
    const seen = (await h.ledger.lastSeen([sensor.id, quiet.id]));
    expect([...seen.keys()]).toEqual([sensor.id]);
    const t0 = Date.parse(seen.get(sensor.id)!);

    // Exactly 2 hours is not more than 2 hours.
    await harnessRenderService(h, { now: t0 + 2 * HOUR }).run();
    expect(await silent()).toEqual([]);

    await harnessRenderService(h, { now: t0 + 2 * HOUR + 1000 }).run();
    const raised = await silent();
    const day = utcDay(t0 + 2 * HOUR);
    expect(raised.map((w) => [w.id, w.day, w.subject, w.lastSeenAt, w.clearedAt])).toEqual([
      [warningId(day, 'silent', 'sensor:silent-a'), day, 'sensor:silent-a', new Date(t0).toISOString(), undefined],
    ]);

    // Judged again an hour later: still one.
    await harnessRenderService(h, { now: t0 + 3 * HOUR }).run();
    expect((await silent()).length).toBe(1);

    // A heartbeat (an empty batch) clears it at the next judgement.
    const beat = await postBatch(h.url, sensor, ndjsonBatch(sensor.id, []));
    expect(beat.status).toBe(202);
    const t1 = Date.parse((await h.ledger.lastSeen([sensor.id])).get(sensor.id)!);
    expect(t1).toBeGreaterThan(t0);
    await harnessRenderService(h, { now: t1 + 60_000 }).run();
    const cleared = await silent();
    expect(cleared.length).toBe(1);
    expect(cleared[0]!.clearedAt).toBe(new Date(t1).toISOString());

    // Operators only: nothing of it for partners.
    const s3 = localS3Client(h.config.s3Endpoint!);
    const out = await s3.send(new GetObjectCommand({ Bucket: h.config.bucketName, Key: PARTNER_WARNINGS_KEYS.json }));
    const body = JSON.parse(await out.Body!.transformToString());
    expect(body.warnings.filter((w: { kind: string }) => w.kind === 'silent')).toEqual([]);
  }, 120_000);
});
