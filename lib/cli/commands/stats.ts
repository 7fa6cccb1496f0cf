/** `alertgraph stats` (DESIGN §10): the daily figures, live from the counters. */
import { EXIT, UsageError, checkPeriod, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext } from '../../admin/context.js';
import { dailyStats } from '../../stats/daily.js';
import { SummaryStore } from '../../store/summaries.js';

/** A longer period is a mistake more often than a wish, and a slow one: one counter read per day and sensor. */
const MAX_DAYS = 3660;

export const handler: Handler<'stats'> = async ({ options }) => {
  const { from, to } = options;
  checkPeriod(from, to);
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > MAX_DAYS) throw new UsageError('at most ten years at a time');
  const ctx = await adminContext(options['data-dir'], options.stack);
  const sensors = (await ctx.registry.listSensors()).map((s) => s.id);
  const summaries = new SummaryStore(ctx.dynamo, ctx.tableName);
  const stats = await dailyStats(ctx.ledger, sensors, from, to, (days) => summaries.settledDays(days));
  output(options.json).result(
    stats,
    stats.days.map((d) => `${d.date}  ${String(d.total).padStart(9)}  ${Object.entries(d.bySensor).map(([s, n]) => `${s}=${n}`).join(' ')}`).join('\n'),
  );
  return EXIT.ok;
};
