/**
 * Child process of the render benchmark: renders every public and partner chart (spec → SVG → PNG) for
 * synthetic history of `--days` days × `--sensors` sensors in this warm process, `--runs` times.
 * Prints JSON: per-run milliseconds and the peak RSS (VmHWM).
 */
import { readFileSync } from 'node:fs';
import { renderChart } from '../lib/charts/render.js';
import { partnerSpecs, publicDailySpec, type Spec } from '../lib/charts/specs.js';
import { syntheticPartnerData, syntheticPublicData } from '../test/fixtures/charts/synthetic.js';
import { renderBenchArgs } from './stats.js';

/** The figures the charts are drawn from: built once, outside the timed part (they stand for stored data). */
export function chartData(days: number, sensors: number) {
  const today = new Date().toISOString().slice(0, 10);
  const opts = { today, days, sensors, seed: 7 };
  return { pub: syntheticPublicData(opts), partner: syntheticPartnerData(opts) };
}

/** Every public and partner spec for those figures: the timed part starts here, for ours and the peer alike. */
export function allSpecs(data: ReturnType<typeof chartData>) {
  return [publicDailySpec(data.pub), ...Object.values(partnerSpecs(data.partner))];
}

/**
 * Renders every chart `runs` times after one untimed warm-up run, with `toPng` turning a spec into PNG bytes
 * (ours: Vega + sharp; the peer: a browser). Returns the time of each run and the PNG bytes of the last.
 */
export async function timeAllCharts(data: ReturnType<typeof chartData>, runs: number, toPng: (spec: Spec) => Promise<Uint8Array>) {
  const times: number[] = [];
  let pngBytes = 0;
  for (let run = -1; run < runs; run++) {
    const t = performance.now();
    pngBytes = 0;
    for (const spec of allSpecs(data)) pngBytes += (await toPng(spec)).byteLength;
    if (run >= 0) times.push(performance.now() - t);
  }
  return { times, pngBytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { days, sensors, runs } = renderBenchArgs();
  const data = chartData(days, sensors);
  const { times, pngBytes } = await timeAllCharts(data, runs, async (spec) => (await renderChart(spec)).png);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.stdout.write(`${JSON.stringify({ times, charts: allSpecs(data).length, pngBytes, peakRssMb: hwm ? Number(hwm[1]) / 1024 : null })}\n`);
}
