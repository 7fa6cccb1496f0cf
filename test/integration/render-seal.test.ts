/**
 * Rollups are written when a day is sealed, SEAL_MARGIN_DAYS before the horizon, and are the record of the day
 * once its contributions expire. With a 62-day horizon the render job seals every day up to two days ago.
 */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { SEAL_MARGIN_DAYS } from '../../lib/render/job.js';
import type { RenderService } from '../../lib/render/service.js';
import { dailyStats } from '../../lib/stats/daily.js';
import { SummaryStore } from '../../lib/store/summaries.js';
import { contributionSk, sensorDayPk } from '../../lib/store/table.js';
import { eveAlert } from '../helpers/eve.js';
import { harnessRenderService, ndjsonBatch, postBatch, startHarness, type Harness, type TestSensor } from '../helpers/harness.js';
import { noon, dayMs, dayName } from '../helpers/days.js';

const sealed = dayName(4);
const open = dayName(1);

let h: Harness;
let a: TestSensor;
let render: RenderService;

const alerts = (n: number, day: number, tag: string) =>
  Array.from({ length: n }, (_, i) => eveAlert({ time: dayMs(day) + 3_600_000 + i * 1000, src: `198.51.100.${i + 1}`, dstPort: 445, signature: `seal ${tag}` }));

beforeAll(async () => {
  h = await startHarness();
  a = await h.addSensor('sensor-seal', { deployedAt: dayName(5) });
  expect((await postBatch(h.url, a, ndjsonBatch(a.id, alerts(3, 4, 'first')))).status).toBe(202);
  expect((await postBatch(h.url, a, ndjsonBatch(a.id, alerts(2, 1, 'first')))).status).toBe(202);
  // The horizon of the render job only: ingest keeps its own (400 days), so the batches above are accepted.
  render = harnessRenderService(h, { now: noon, deps: { horizonDays: SEAL_MARGIN_DAYS + 2 } });
}, 60_000);
afterAll(async () => h?.close());

describe('rollups are written when a day is sealed', () => {
  it('writes the rollup of a sealed day and none for a day not sealed yet', async () => {
    const report = await render.run();
    expect(report.closedThrough).toBe(open);
    expect((await h.ledger.readSensorDay(a.id, sealed)).rollup).toMatchObject({ contributions: 1, aggregate: { total: 3 } });
    expect((await h.ledger.readSensorDay(a.id, open)).rollup).toBeUndefined();
    const summaries = new SummaryStore(localDynamoClient(inject('dynamoEndpoint')), h.config.tableName);
    expect((await summaries.getRenderState()).lastSealedDay).toBe(dayName(2));
  });

  it('rewrites a sealed day\'s rollup after a late batch, and the rollup is the record once contributions expire', async () => {
    expect((await postBatch(h.url, a, ndjsonBatch(a.id, alerts(4, 4, 'late')))).status).toBe(202);
    await render.run();
    const sd = await h.ledger.readSensorDay(a.id, sealed);
    expect(sd.rollup).toMatchObject({ contributions: 2, aggregate: { total: 7 } });

    // What TTL does at the horizon: the contributions go, the rollup stays.
    const dynamo = localDynamoClient(inject('dynamoEndpoint'));
    for (const c of sd.contributions) {
      await dynamo.send(new DeleteItemCommand({ TableName: h.config.tableName, Key: { pk: { S: sensorDayPk(sealed, a.id) }, sk: { S: contributionSk(c.idempotencyKey) } } }));
    }
    expect((await h.ledger.readSensorDay(a.id, sealed)).contributions).toHaveLength(0);
    const stats = await dailyStats(h.ledger, [a.id], sealed, sealed);
    expect(stats.days[0]).toMatchObject({ date: sealed, total: 7 });
    // A run that rolls the day up again (rebuild's --all) keeps its total from the rollup.
    await render.run({ all: true });
    const summaries = new SummaryStore(dynamo, h.config.tableName);
    expect((await summaries.getDaySummaries([sealed])).get(sealed)?.aggregate.total).toBe(7);
  });
});
