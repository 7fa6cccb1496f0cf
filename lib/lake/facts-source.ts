/**
 * Where an operator's SQL over the facts runs (`query`, `report`): on a deployed stack, Athena over the
 * compacted facts (closed days, Athena's dialect); locally, the embedded engine (DuckDB) over a copy of the
 * lake. The engines are imported on first use, so neither is loaded for the other.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { QueryResult } from './engine.js';
import type { Period } from './query.js';
import type { PeriodReport, ReportOptions, StatisticsEngine } from './report.js';

export type FactsSource = { kind: 'athena'; workGroup: string; database: string } | { kind: 'local'; s3: S3Client; bucketName: string };

/** One read-only statement over the view `facts`; anything else is a QueryError. */
export async function queryFacts(source: FactsSource, sql: string, period: Period): Promise<QueryResult> {
  if (source.kind === 'athena') {
    const [{ runAthenaQuery }, { AthenaClient }, { FACTS_TABLE }] = await Promise.all([import('./athena.js'), import('@aws-sdk/client-athena'), import('./sql.js')]);
    return runAthenaQuery(new AthenaClient({}), { workGroup: source.workGroup, database: source.database, table: FACTS_TABLE }, sql, period);
  }
  const { runReadOnlyQuery } = await import('./query.js');
  return withLocalFacts(source, period, (session) => runReadOnlyQuery(session, sql));
}

/** The period report (DESIGN §14) of `period`. */
export async function reportOnFacts(source: FactsSource, period: Required<Period>, opts: ReportOptions): Promise<PeriodReport> {
  const { buildPeriodReport } = await import('./report.js');
  if (source.kind === 'athena') return buildPeriodReport(athenaStatistics(source), period, opts);
  return withLocalFacts(source, period, (session) => buildPeriodReport(session.engine.statistics, period, opts));
}

/**
 * The statistics on Athena (`report --stack`, and the render job's analysis when its facts outgrow the
 * function's scratch directory): each text runs as it is, self-contained, with the lake's database as default
 * (so `facts` and `first_seen` are its Glue tables). The client is made on first use.
 */
export function athenaStatistics(target: { workGroup: string; database: string }): StatisticsEngine {
  let connected: Promise<(sql: string) => Promise<QueryResult>> | undefined;
  const connect = async () => {
    const [{ runAthenaStatement }, { AthenaClient }] = await Promise.all([import('./athena.js'), import('@aws-sdk/client-athena')]);
    const client = new AthenaClient({});
    return (sql: string) => runAthenaStatement(client, target, sql);
  };
  return {
    run: async (sql) => {
      connected ??= connect();
      return (await (await connected)(sql)).rows;
    },
  };
}

async function withLocalFacts<T>(source: Extract<FactsSource, { kind: 'local' }>, period: Period, use: (session: import('./query.js').FactsSession) => Promise<T>): Promise<T> {
  const [{ openFactsSession }, { S3Lake }, { DEFAULT_SCRATCH_DIR, lakeCacheDir }] = await Promise.all([import('./query.js'), import('./store.js'), import('../config.js')]);
  const session = await openFactsSession(new S3Lake(source.s3, source.bucketName, lakeCacheDir()), DEFAULT_SCRATCH_DIR, period);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}
