/** `alertgraph rebuild` (DESIGN §10): every statistic again from the raw archive, then the whole history rendered. */
import { EXIT, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext, runRenderJob } from '../../admin/context.js';
import { S3Lake } from '../../lake/store.js';
import { rebuildFromArchive, resetLake } from '../../render/rebuild.js';
import { S3RawArchive } from '../../store/raw-archive.js';

export const handler: Handler<'rebuild'> = async ({ options }) => {
  const ctx = await adminContext(options['data-dir'], options.stack);
  const lake = new S3Lake(ctx.s3, ctx.bucketName);
  const rebuilt = await rebuildFromArchive({ archive: new S3RawArchive(ctx.s3, ctx.bucketName), ledger: ctx.ledger, lake, pseudonymKey: await ctx.pseudonymKey() });
  await resetLake(lake);
  const report = await runRenderJob(ctx, { all: true });
  output(options.json).result(
    { ...rebuilt, render: report },
    `rebuilt ${rebuilt.contributions} contributions from ${rebuilt.batches} archived batches (${rebuilt.alerts} alerts)` +
      `${rebuilt.unreadable.length ? `; ${rebuilt.unreadable.length} unreadable: ${rebuilt.unreadable.join(', ')}` : ''}; rendered ${report.rolledUp.length} days`,
  );
  return rebuilt.unreadable.length ? EXIT.failure : EXIT.ok;
};
