/**
 * Child process of the render benchmark: renders every public and partner chart (spec → SVG → PNG) for
 * synthetic history of `--days` days × `--sensors` sensors in this warm process, `--runs` times.
 * Prints JSON: per-run milliseconds and the peak RSS (VmHWM).
 */
import { readFileSync } from 'node:fs';
import { renderChart } from '../lib/charts/render.js';
import { partnerSpecs, publicDailySpec } from '../lib/charts/specs.js';
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const { days, sensors, runs } = renderBenchArgs();
  const data = chartData(days, sensors);
  const times: number[] = [];
  let pngBytes = 0;
  for (let run = -1; run < runs; run++) {
    const t = performance.now();
    const specs = allSpecs(data);
    pngBytes = 0;
    for (const spec of specs) pngBytes += (await renderChart(spec)).png.byteLength;
    if (run >= 0) times.push(performance.now() - t); // run -1 warms the process up
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.stdout.write(`${JSON.stringify({ times, charts: allSpecs(data).length, pngBytes, peakRssMb: hwm ? Number(hwm[1]) / 1024 : null })}\n`);
}
