/**
 * What `push` tells a person while it runs, on stderr (stdout carries only the final summary):
 * a one-line bar with rate and ETA when stderr is a terminal, a plain line now and then otherwise
 * (logs and journald have no use for carriage returns), nothing with --json.
 */
import { formatBytes } from '../util/bytes.js';
import type { PushSummary } from './delivery.js';

export interface ProgressState {
  summary: PushSummary;
  /** Input size when known (a regular file), for the percentage and the ETA. */
  totalBytes?: number;
  startedAt: number;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Remaining time from the read rate so far; undefined until there is a rate to go by. */
export function estimateRemainingMs(state: ProgressState, now: number): number | undefined {
  const { bytesRead } = state.summary;
  const elapsed = now - state.startedAt;
  if (state.totalBytes === undefined || bytesRead <= 0 || elapsed < 500) return undefined;
  return ((state.totalBytes - bytesRead) * elapsed) / bytesRead;
}

/** The terminal line: `[#####-----]  48%  12.0 MiB/s  9,120 lines/s  ETA 1m05s  batches 420 (0 spooled)`. */
export function progressBar(state: ProgressState, now: number, width = 24): string {
  const s = state.summary;
  const secs = Math.max(0.001, (now - state.startedAt) / 1000);
  const parts: string[] = [];
  if (state.totalBytes !== undefined && state.totalBytes > 0) {
    const ratio = Math.min(1, s.bytesRead / state.totalBytes);
    const filled = Math.round(ratio * width);
    parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`);
  }
  parts.push(`${formatBytes(Math.round(s.bytesRead / secs))}/s`, `${Math.round(s.lines / secs).toLocaleString('en-US')} lines/s`);
  const eta = estimateRemainingMs(state, now);
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  parts.push(`batches ${s.batches}${s.spooledBatches ? ` (${s.spooledBatches} spooled)` : ''}`);
  return parts.join('  ');
}

/** A log line: what a non-terminal gets every so often. */
export function progressLine(state: ProgressState, now: number): string {
  const s = state.summary;
  const pct = state.totalBytes ? ` (${Math.floor((100 * s.bytesRead) / state.totalBytes)}% of ${formatBytes(state.totalBytes)})` : '';
  const eta = estimateRemainingMs(state, now);
  return `push: ${s.batches} batches, ${s.lines} lines read${pct}, ${s.accepted} accepted, ${s.duplicateBatches} duplicate, ` +
    `${s.failedBatches} refused, ${s.spooledBatches} spooled${eta !== undefined ? `, ETA ${formatDuration(eta)}` : ''}`;
}

export interface ProgressReporter {
  update(): void;
  done(): void;
}

export function createProgress(opts: {
  mode: 'bar' | 'lines' | 'off';
  state: ProgressState;
  write: (text: string) => void;
  now?: () => number;
  /** Lines mode: one line per this many batches, or after this long, whichever comes first. */
  everyBatches?: number;
  everyMs?: number;
}): ProgressReporter {
  const now = opts.now ?? Date.now;
  let lastDraw = 0;
  let lastBatches = 0;
  let drawn = false;
  if (opts.mode === 'off') return { update() {}, done() {} };
  if (opts.mode === 'bar') {
    return {
      update() {
        const t = now();
        // A redraw per batch would flood a slow terminal; ten a second looks smooth.
        if (t - lastDraw < 100) return;
        lastDraw = t;
        drawn = true;
        opts.write(`\r${progressBar(opts.state, t)}\x1b[K`);
      },
      done() {
        if (drawn) opts.write(`\r${progressBar(opts.state, now())}\x1b[K\n`);
      },
    };
  }
  const everyBatches = opts.everyBatches ?? 100;
  const everyMs = opts.everyMs ?? 30_000;
  return {
    update() {
      const t = now();
      const batches = opts.state.summary.batches + opts.state.summary.spooledBatches;
      if (batches - lastBatches < everyBatches && t - (lastDraw || opts.state.startedAt) < everyMs) return;
      lastBatches = batches;
      lastDraw = t;
      opts.write(`${progressLine(opts.state, t)}\n`);
    },
    done() {},
  };
}
