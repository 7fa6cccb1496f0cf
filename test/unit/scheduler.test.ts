import { afterEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../lib/log.js';
import { startRenderScheduler, type RenderScheduler } from '../../lib/local/scheduler.js';

const HOUR = 3_600_000;
let scheduler: RenderScheduler | undefined;
afterEach(async () => scheduler?.stop());

async function settle(ms = 30): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('render schedule of the local stack', () => {
  it('renders at start when nothing is published, then once per hour and right after the daily close time', async () => {
    let now = Date.parse('2026-11-22T10:10:00Z');
    const runs: string[] = [];
    scheduler = startRenderScheduler({
      run: async () => runs.push(new Date(now).toISOString()),
      publishedAlready: async () => false,
      closeAfterMinutes: 30,
      log: silentLog,
      clock: () => now,
      tickMs: 5,
    });
    await settle();
    expect(runs).toEqual(['2026-11-22T10:10:00.000Z']);

    now += 20 * 60_000; // 10:30, same hour: nothing
    await settle();
    expect(runs).toHaveLength(1);

    now = Date.parse('2026-11-22T11:00:05Z'); // a new hour
    await settle();
    expect(runs).toHaveLength(2);

    now = Date.parse('2026-11-23T00:05:00Z'); // after midnight, before the close time: "today so far" only
    await settle();
    expect(runs).toHaveLength(3);
    now = Date.parse('2026-11-23T00:31:00Z'); // the close time passed within the hour: yesterday is closed now
    await settle();
    expect(runs).toHaveLength(4);
    now += 10 * 60_000;
    await settle();
    expect(runs).toHaveLength(4);
  });

  it('does not render at start when objects are published, and survives a failing run', async () => {
    let now = Date.parse('2026-11-22T10:10:00Z');
    let calls = 0;
    scheduler = startRenderScheduler({
      run: async () => {
        calls++;
        throw new Error('render failed');
      },
      publishedAlready: async () => true,
      closeAfterMinutes: 30,
      log: silentLog,
      clock: () => now,
      tickMs: 5,
    });
    await settle();
    expect(calls).toBe(0);
    now += HOUR;
    await settle();
    expect(calls).toBe(1);
    now += HOUR;
    await settle();
    expect(calls).toBe(2);
  });
});
