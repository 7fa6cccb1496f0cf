import { describe, expect, it } from 'vitest';
import { SeenMarks } from '../../lib/ingest/seen.js';

describe('last-seen marks', () => {
  it('are written at most once per interval per sensor, and always after a silence longer than it', () => {
    // Threshold 2 h → interval min(5 min, 30 min) = 5 min.
    const seen = SeenMarks.forSilence(7200);
    const t0 = 1_000_000;
    expect(seen.due('a', t0)).toBe(true);
    expect(seen.due('a', t0 + 299_999)).toBe(false);
    expect(seen.due('b', t0 + 1)).toBe(true);
    expect(seen.due('a', t0 + 300_000)).toBe(true);
    // Threshold 40 s (a dev test) → interval 10 s: a batch after 35 s of silence writes.
    const quick = SeenMarks.forSilence(40);
    expect(quick.due('a', 0)).toBe(true);
    expect(quick.due('a', 9_999)).toBe(false);
    expect(quick.due('a', 35_000)).toBe(true);
  });

  it('forget the oldest sensor beyond their bound, which then simply writes again', () => {
    const seen = new SeenMarks(60_000, 2);
    expect([seen.due('a', 0), seen.due('b', 0), seen.due('c', 0)]).toEqual([true, true, true]);
    expect(seen.due('a', 1)).toBe(true);
    expect(seen.due('c', 1)).toBe(false);
  });
});
