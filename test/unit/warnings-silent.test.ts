/**
 * The silent-sensor rule (lib/warnings/judge.ts judgeSilent) with an injected clock, threshold 2 hours.
 */
import { describe, expect, it } from 'vitest';
import { judgeSilent } from '../../lib/warnings/judge.js';
import { warningId, type Warning } from '../../lib/warnings/model.js';

const H = 3_600_000;
const T0 = Date.parse('2026-03-01T20:00:00Z');
const sensors = [
  { id: 'a', status: 'active' as const },
  { id: 'gone', status: 'revoked' as const },
  { id: 'new', status: 'active' as const },
];
const iso = (ms: number) => new Date(ms).toISOString();
const silent = (ws: Warning[]) => ws.filter((w) => w.kind === 'silent').map((w) => [w.day, w.lastSeenAt, w.clearedAt ?? null]);

describe('silent sensors', () => {
  it('raises once after more than 2 hours, clears on the next batch, raises again after a new silence', () => {
    const seen = new Map([
      ['a', iso(T0)],
      ['gone', iso(T0 - 48 * H)],
    ]);
    // Exactly 2 hours: not yet.
    let r = judgeSilent([], sensors, seen, T0 + 2 * H, 7200);
    expect(r.raised).toEqual([]);
    // Just over: one warning, on the day the threshold was crossed (22:00, still 03-01); revoked and never-seen sensors are not judged.
    r = judgeSilent(r.warnings, sensors, seen, T0 + 2 * H + 1, 7200);
    expect(r.raised.map((w) => w.id)).toEqual([warningId('2026-03-01', 'silent', 'sensor:a')]);
    expect(silent(r.warnings)).toEqual([['2026-03-01', iso(T0), null]]);
    // Judged again hours later: still one, nothing raised.
    r = judgeSilent(r.warnings, sensors, seen, T0 + 6 * H, 7200);
    expect(r.raised).toEqual([]);
    expect(r.warnings.length).toBe(1);
    // A heartbeat at T0 + 7 h clears it.
    seen.set('a', iso(T0 + 7 * H));
    r = judgeSilent(r.warnings, sensors, seen, T0 + 7 * H + 60_000, 7200);
    expect(r.cleared.map((w) => w.clearedAt)).toEqual([iso(T0 + 7 * H)]);
    expect(silent(r.warnings)).toEqual([['2026-03-01', iso(T0), iso(T0 + 7 * H)]]);
    // Silent again: crosses the threshold at 05:00 on 03-02, a new warning.
    r = judgeSilent(r.warnings, sensors, seen, T0 + 10 * H, 7200);
    expect(r.raised.map((w) => w.day)).toEqual(['2026-03-02']);
    expect(silent(r.warnings)).toEqual([
      ['2026-03-02', iso(T0 + 7 * H), null],
      ['2026-03-01', iso(T0), iso(T0 + 7 * H)],
    ]);
  });

  it('a batch and a new silence between two judgements clear the warning and reopen the same day one', () => {
    const seen = new Map([['a', iso(T0 - 3 * H)]]);
    let r = judgeSilent([], sensors, seen, T0, 7200);
    const id = r.raised[0]!.id;
    seen.set('a', iso(T0 - 30 * 60_000)); // a batch at 19:30, silent again by 21:30, judged at 21:31
    r = judgeSilent(r.warnings, sensors, seen, T0 + 91 * 60_000, 7200);
    expect(r.cleared.map((w) => w.id)).toEqual([id]);
    expect(r.raised.map((w) => [w.id, w.lastSeenAt, w.clearedAt])).toEqual([[id, iso(T0 - 30 * 60_000), undefined]]);
    expect(r.warnings.length).toBe(1);
  });
});
