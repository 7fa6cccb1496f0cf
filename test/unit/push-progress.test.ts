/** The progress display: bar with rate and ETA on a terminal, occasional lines otherwise, nothing for --json. */
import { describe, expect, it } from 'vitest';
import { emptySummary } from '../../lib/client/delivery.js';
import { createProgress, estimateRemainingMs, formatDuration, progressBar, progressLine, type ProgressState } from '../../lib/client/progress.js';

function state(bytesRead: number, totalBytes?: number): ProgressState {
  const summary = { ...emptySummary(), bytesRead, lines: bytesRead / 100, batches: 7, accepted: 650 };
  return { summary, totalBytes, startedAt: 0 };
}

describe('progress', () => {
  it('estimates the remaining time from the bytes read so far and the file size', () => {
    expect(estimateRemainingMs(state(250, 1000), 10_000)).toBe(30_000);
    expect(estimateRemainingMs(state(250), 10_000)).toBeUndefined(); // stdin: no size, no ETA
    expect(estimateRemainingMs(state(0, 1000), 10_000)).toBeUndefined();
  });

  it('draws a bar with percentage, rate and ETA', () => {
    const bar = progressBar(state(512 * 1024, 1024 * 1024), 2000, 10);
    expect(bar).toContain('[#####-----]  50%');
    expect(bar).toContain('256.0 KiB/s');
    expect(bar).toContain('ETA 2s');
    expect(bar).toContain('batches 7');
    expect(progressBar(state(1000), 1000)).not.toContain('%');
  });

  it('formats durations', () => {
    expect(formatDuration(59_400)).toBe('59s');
    expect(formatDuration(65_000)).toBe('1m05s');
    expect(formatDuration(2 * 3_600_000 + 7 * 60_000)).toBe('2h07m');
  });

  it('plain mode writes a line per N batches, not per batch', () => {
    const out: string[] = [];
    const st = state(100, 1000);
    let t = 0;
    const p = createProgress({ mode: 'lines', state: st, write: (s) => out.push(s), now: () => t, everyBatches: 10, everyMs: 1e9 });
    for (let i = 0; i < 35; i++) {
      st.summary.batches = i + 1;
      t += 10;
      p.update();
    }
    expect(out).toHaveLength(3);
    expect(out[0]).toMatch(/^push: 10 batches, .* 650 accepted/);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(progressLine(st, 1000)).toContain('10%');
  });

  it('bar mode redraws in place and ends with a newline; off mode writes nothing', () => {
    const out: string[] = [];
    let t = 0;
    const p = createProgress({ mode: 'bar', state: state(10, 100), write: (s) => out.push(s), now: () => t });
    for (let i = 0; i < 5; i++) {
      t += 150;
      p.update();
    }
    p.done();
    expect(out.length).toBe(6);
    expect(out.every((s) => s.startsWith('\r'))).toBe(true);
    expect(out.at(-1)!.endsWith('\n')).toBe(true);
    const silent: string[] = [];
    const off = createProgress({ mode: 'off', state: state(10, 100), write: (s) => silent.push(s) });
    off.update();
    off.done();
    expect(silent).toEqual([]);
  });
});
