/**
 * `alertgraph warnings [--from YYYY-MM-DD] [--json] [--stack NAME]` (DESIGN §15): every stored warning — surge,
 * new and silent — newest first, `--from` inclusive. Reads the warning store in the bucket of the local stack
 * or of the deployed stack, like the other commands.
 */
import { EXIT, output, parse, parseDate } from './args.js';

export const WARNINGS_HELP = `Usage: alertgraph warnings [--from YYYY-MM-DD] [--json] [--stack NAME]

The early warnings the render job raised (DESIGN §15), newest first, every kind:
  surge   a port (tcp/445) or signature (sid:<id>, msg:<text>) active on at least 14 of the 28 days before a
          closed day had at least 3 × its median alerts (and ≥ 50) or distinct sources (and ≥ 10) that day;
  new     a port or signature without any alert in the 28 days before was seen from ≥ 10 distinct sources;
  silent  a sensor sent no batch, not even a heartbeat, for more than 2 hours (cleared by its next batch).
Thresholds are settings (WARN_* in the render job's environment). --from limits to days on or after it.
--json prints {"warnings":[{"id","day","kind","subject","figures":{"alerts","sources"},"baseline":{"alerts","sources"},…}]}.`;

export async function cmdWarnings(argv: string[], help: () => number): Promise<number> {
  const { values } = parse(argv, { from: { type: 'string' } });
  if (values.help) return help();
  const from = values.from === undefined ? undefined : parseDate(values.from, '--from');
  const [{ adminContext }, { S3Lake }, { WarningStore, selectWarnings }, { warningText }] = await Promise.all([
    import('./context.js'),
    import('../lake/store.js'),
    import('../warnings/store.js'),
    import('../warnings/publish.js'),
  ]);
  const ctx = await adminContext(values['data-dir'], values.stack);
  const warnings = selectWarnings(await new WarningStore(new S3Lake(ctx.s3, ctx.bucketName)).list(), from);
  output(values.json).result(
    { warnings },
    warnings.length === 0
      ? `no warnings${from ? ` since ${from}` : ''}`
      : warnings.map((w) => `${w.day}  ${w.kind.padEnd(6)}  ${w.kind === 'silent' && w.clearedAt ? '(cleared) ' : ''}${warningText(w)}`).join('\n'),
  );
  return EXIT.ok;
}
