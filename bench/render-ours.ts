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

export function allSpecs(days: number, sensors: number) {
  const today = new Date().toISOString().slice(0, 10);
  const opts = { today, days, sensors, seed: 7 };
  return [publicDailySpec(syntheticPublicData(opts)), ...Object.values(partnerSpecs(syntheticPartnerData(opts)))];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { days, sensors, runs } = renderBenchArgs();
  const times: number[] = [];
  let pngBytes = 0;
  for (let run = -1; run < runs; run++) {
    const t = performance.now();
    const specs = allSpecs(days, sensors);
    pngBytes = 0;
    for (const spec of specs) pngBytes += (await renderChart(spec)).png.byteLength;
    if (run >= 0) times.push(performance.now() - t); // run -1 warms the process up
  }
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.stdout.write(`${JSON.stringify({ times, charts: allSpecs(days, sensors).length, pngBytes, peakRssMb: hwm ? Number(hwm[1]) / 1024 : null })}\n`);
}
