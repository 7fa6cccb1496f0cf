/** `alertgraph query "<SQL>"` (DESIGN §13): one read-only statement over the alert facts. */
import { EXIT, UsageError, checkPeriod, formatTable, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext, factsSource } from '../../admin/context.js';
import { queryFacts } from '../../lake/facts-source.js';
import { QueryError } from '../../lake/query.js';

export const handler: Handler<'query'> = async ({ options, args }) => {
  const { from, to } = options;
  checkPeriod(from, to);
  const ctx = await adminContext(options['data-dir'], options.stack);
  const result = await queryFacts(factsSource(ctx), args.sql, { from, to }).catch((err: unknown) => {
    if (err instanceof QueryError) throw new UsageError(`${err.code}: ${err.message}`);
    throw err;
  });
  output(options.json).result(result, formatTable(result.columns, result.rows));
  return EXIT.ok;
};
