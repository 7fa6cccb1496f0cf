/**
 * `alertgraph warnings` (DESIGN §15): every stored warning — surge, new and silent — newest first, `--from`
 * inclusive. Reads the warning store in the bucket of the local stack or of the deployed stack.
 */
import { EXIT, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext } from '../../admin/context.js';
import { S3Lake } from '../../lake/store.js';
import { WarningStore, selectWarnings } from '../../warnings/store.js';
import { warningText } from '../../warnings/publish.js';

export const handler: Handler<'warnings'> = async ({ options }) => {
  const { from } = options;
  const ctx = await adminContext(options['data-dir'], options.stack);
  const warnings = selectWarnings(await new WarningStore(new S3Lake(ctx.s3, ctx.bucketName)).list(), from);
  output(options.json).result(
    { warnings },
    warnings.length === 0
      ? `no warnings${from ? ` since ${from}` : ''}`
      : warnings.map((w) => `${w.day}  ${w.kind.padEnd(6)}  ${w.kind === 'silent' && w.clearedAt ? '(cleared) ' : ''}${warningText(w)}`).join('\n'),
  );
  return EXIT.ok;
};
