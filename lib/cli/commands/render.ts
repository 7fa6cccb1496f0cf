/** `alertgraph render` (DESIGN §10): roll up, close, render and publish now; or one closed day's archive copy. */
import { EXIT, UsageError, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext, runRenderJob } from '../../admin/context.js';

export const handler: Handler<'render'> = async ({ options }) => {
  const { date } = options;
  const ctx = await adminContext(options['data-dir'], options.stack);
  const report = await runRenderJob(ctx, { date }).catch((err: unknown) => {
    if ((err as { code?: string }).code === 'day_not_closed') throw new UsageError((err as Error).message);
    throw err;
  });
  const base = ctx.url;
  output(options.json).result(
    { ...report, url: date ? `${base}/public/archive/${date}/alerts-daily.png` : `${base}/public/alerts-daily.png` },
    date
      ? `rebuilt the archive copy of ${date}: ${base}/public/archive/${date}/alerts-daily.png`
      : `rendered ${report.rolledUp.length} day(s), closed through ${report.closedThrough}, published ${report.published} objects: ${base}/public/index.html`,
  );
  return EXIT.ok;
};
