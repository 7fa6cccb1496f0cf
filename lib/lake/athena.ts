/**
 * The distributed engine (DESIGN §13): Athena over the Glue table `facts` (the compacted Parquet), for what
 * outgrows one function. `query --stack` runs here; the query texts are those the DuckDB tests run.
 *
 * Untested here (no AWS account): the API calls themselves. Tested: the statement check and the period
 * wrapping, which are the same for both engines, and the conversion of Athena's result rows.
 */
import type { AthenaClient, ColumnInfo, Row } from '@aws-sdk/client-athena';
import type { JsonValue, QueryResult } from './engine.js';
import { checkReadOnlyText, QueryError, type Period } from './query.js';
import { literal } from './sql.js';

/**
 * Restricts `facts` to a period for Athena: the statement runs with `facts` defined as a common table
 * expression over the Glue table, so partition projection prunes to the period's days.
 */
export function withPeriod(statement: string, table: string, period: Period): string {
  const where = [period.from && `day >= ${literal(period.from)}`, period.to && `day <= ${literal(period.to)}`].filter(Boolean).join(' AND ');
  if (!where) return statement;
  const cte = `facts AS (SELECT * FROM ${table} WHERE ${where})`;
  return /^with\b/i.test(statement) ? statement.replace(/^with\b/i, `WITH ${cte},`) : `WITH ${cte} ${statement}`;
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'int', 'bigint', 'double', 'float', 'real', 'decimal']);

/** Athena returns every value as text: numbers back to JSON numbers, booleans to booleans, absent to null. */
export function athenaRows(columns: readonly ColumnInfo[], rows: readonly Row[]): QueryResult {
  const names = columns.map((c) => c.Name ?? '');
  const out = rows.map((row) => {
    const record: Record<string, JsonValue> = {};
    columns.forEach((col, i) => {
      const v = row.Data?.[i]?.VarCharValue;
      const type = (col.Type ?? '').toLowerCase();
      record[names[i]!] = v === undefined ? null : NUMERIC.has(type) ? Number(v) : type === 'boolean' ? v === 'true' : v;
    });
    return record;
  });
  return { columns: names, rows: out };
}

export interface AthenaTarget {
  workGroup: string;
  database: string;
  /** The Glue table of the facts (`facts`). */
  table: string;
}

/** Runs one read-only statement on Athena and waits for its rows. */
export async function runAthenaQuery(client: AthenaClient, target: AthenaTarget, sql: string, period: Period = {}, pollMs = 1000): Promise<QueryResult> {
  const statement = withPeriod(checkReadOnlyText(sql), `"${target.database}"."${target.table}"`, period);
  return runAthenaStatement(client, target, statement, pollMs);
}

/** Runs a statement of the project's own (the report's texts) on Athena, with the stack's database as default. */
export async function runAthenaStatement(client: AthenaClient, target: Omit<AthenaTarget, 'table'>, statement: string, pollMs = 1000): Promise<QueryResult> {
  const { StartQueryExecutionCommand, GetQueryExecutionCommand, GetQueryResultsCommand } = await import('@aws-sdk/client-athena');
  const started = await client.send(
    new StartQueryExecutionCommand({ QueryString: statement, WorkGroup: target.workGroup, QueryExecutionContext: { Database: target.database } }),
  );
  const id = started.QueryExecutionId!;
  for (;;) {
    const { QueryExecution } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
    const state = QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new QueryError('query_invalid', `Athena: ${QueryExecution?.Status?.StateChangeReason ?? state}`);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  let columns: ColumnInfo[] = [];
  const rows: Row[] = [];
  let token: string | undefined;
  let first = true;
  do {
    const page = await client.send(new GetQueryResultsCommand({ QueryExecutionId: id, NextToken: token }));
    if (first) columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
    // The first row of the first page repeats the column names.
    rows.push(...(page.ResultSet?.Rows ?? []).slice(first ? 1 : 0));
    first = false;
    token = page.NextToken;
  } while (token);
  return athenaRows(columns, rows);
}
