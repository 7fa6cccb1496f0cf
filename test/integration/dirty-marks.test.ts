/**
 * Dirty marks (a late batch re-opens a closed day) are cleared after the render job re-rolls their days —
 * unless a newer batch marked the day again meanwhile, whose mark must stay for the next run. Many marks at
 * once (a first run after a backfill) are cleared a hundred to a transaction.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { DynamoBatchLedger } from '../../lib/store/ledger.js';
import { SummaryStore } from '../../lib/store/summaries.js';
import { addDays } from '../../lib/util/days.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let summaries: SummaryStore;
let ledger: DynamoBatchLedger;

beforeAll(async () => {
  h = await startHarness();
  summaries = new SummaryStore(localDynamoClient(inject('dynamoEndpoint')), h.config.tableName);
  ledger = h.ledger;
}, 60_000);
afterAll(async () => h?.close());

const days = (n: number, from: string) => Array.from({ length: n }, (_, i) => addDays(from, i));

describe('clearing dirty marks', () => {
  it.each([
    ['a few, one by one', 5, '2025-01-01'],
    ['many, in transactions of 100', 230, '2025-03-01'],
  ])('%s: every mark read goes, but one a newer batch set again stays', async (_, n, from) => {
    for (const day of days(n, from)) await ledger.markDayChanged(day, 's1', '2025-06-01T00:00:00.000Z');
    const read = (await summaries.listDirty()).filter((m) => m.day >= from && m.day <= addDays(from, n - 1));
    expect(read).toHaveLength(n);
    // After the job read the marks, a batch for one of the days (in the second hundred, when there is one)
    // marks it again.
    const again = days(n, from)[Math.min(n - 1, 150)]!;
    await ledger.markDayChanged(again, 's2', '2025-06-02T00:00:00.000Z');

    await summaries.clearDirtyMarks(read);
    const left = (await summaries.listDirty()).filter((m) => m.day >= from && m.day <= addDays(from, n - 1));
    expect(left.map((m) => [m.day, m.at])).toEqual([[again, '2025-06-02T00:00:00.000Z']]);
  });
});
