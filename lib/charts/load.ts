/**
 * The chart renderer (lib/charts/render.ts: Vega and sharp), loaded on first use. Loading it is ~0.3 s of a
 * process's start on this project's machine; commands that draw nothing (stats, query, an ingest function)
 * never pay it, and the render job starts loading it early so the load overlaps the job's storage requests.
 */
type ChartRenderer = typeof import('./render.js');

let loading: Promise<ChartRenderer> | undefined;

export function chartRenderer(): Promise<ChartRenderer> {
  return (loading ??= import('./render.js'));
}
