/** `alertgraph report --from --to` (DESIGN §14): the period report, as text, JSON or an HTML page. */
import { EXIT, checkPeriod, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext, factsSource } from '../../admin/context.js';
import { reportOnFacts } from '../../lake/facts-source.js';
import { SummaryStore } from '../../store/summaries.js';

export const handler: Handler<'report'> = async ({ options }) => {
  const { from, to, out } = options;
  checkPeriod(from, to);
  const ctx = await adminContext(options['data-dir'], options.stack);
  const isClosed = await new SummaryStore(ctx.dynamo, ctx.tableName).closedDays();
  const report = await reportOnFacts(factsSource(ctx), { from, to }, { isClosed });
  // The page draws charts (Vega, sharp): loaded only when asked for.
  if (out) await (await import('../../publish/report-page.js')).writeReportPage(out, report);
  const pct = (n: number, of: number) => (of === 0 ? '0' : ((100 * n) / of).toFixed(1));
  const days = (a: (typeof report.activity)[number]) =>
    a.maxDays === null ? `≥ ${a.minDays}` : a.minDays === a.maxDays ? `${a.minDays}` : `${a.minDays}–${a.maxDays}`;
  output(options.json).result(
    report,
    [
      `${report.from} … ${report.to}: ${report.alerts} alerts from ${report.sources} source addresses`,
      `ICMP sources: ${report.icmpSources.sources} (${report.icmpSources.alertsPerSource.toFixed(1)} alerts each); ` +
        `other sources: ${report.otherSources.sources} (${report.otherSources.alertsPerSource.toFixed(1)} alerts each)`,
      `scans: ${report.scans.alerts} alerts (${pct(report.scans.alerts, report.alerts)} %) from ${report.scans.sources} sources` +
        (report.largestScan ? `; the largest single source's scan alerts: ${report.largestScan.alerts}` : ''),
      ...report.activity.map((a) => `active on ${days(a)} day(s): ${a.sources} sources; top ports ${a.topPorts.slice(0, 5).map((p) => p.port).join(', ')}`),
      ...(out ? [`written to ${out}`] : []),
    ].join('\n'),
  );
  return EXIT.ok;
};
