/**
 * `alertgraph query` on the embedded engine (DESIGN §13): the view `facts` over every counted alert — the
 * compacted Parquet and the staging objects not compacted yet — and one read-only statement run on it.
 *
 * The objects of the asked period are brought from the bucket into a scratch directory first (the engine reads
 * local files only). Then the engine is locked down before the analyst's SQL runs: external access off except
 * for that directory, configuration locked, so a SELECT cannot read or write anything else on the machine.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FACTS_PREFIX, FIRST_SEEN_PREFIX, parseStagingKey } from '../publish/layout.js';
import { mapLimit } from '../util/map-limit.js';
import { LakeEngine, type QueryResult } from './engine.js';
import { ensureScratchRoom, type FreeSpace } from './scratch.js';
import { allFacts, literal, readFirstSeen } from './sql.js';
import type { S3Lake } from './store.js';

export interface Period {
  from?: string;
  to?: string;
}

/** A statement `query` will not run (`query_refused`) or that fails (`query_invalid`): a usage error, exit 2. */
export class QueryError extends Error {
  constructor(
    readonly code: 'query_refused' | 'query_invalid',
    message: string,
  ) {
    super(message);
  }
}

const inPeriod = (day: string, p: Period) => (!p.from || day >= p.from) && (!p.to || day <= p.to);

const describePeriod = (p: Period) => (p.from && p.to ? `${p.from} to ${p.to}` : p.from ? `${p.from} on` : p.to ? `up to ${p.to}` : 'every day');

/** A local copy of the lake's objects of a period, and the engine with the view `facts` over them. */
export interface FactsSession {
  engine: LakeEngine;
  /** Objects brought from the bucket. */
  objects: number;
  close(): Promise<void>;
}

/**
 * Brings the period's facts into a fresh scratch directory and opens the engine with the view `facts`, and the
 * table `first_seen` (empty before the first close). A period whose objects cannot fit in the scratch
 * directory is refused before anything is downloaded (ScratchTooSmallError); `free` says how much room there is.
 */
export async function openFactsSession(
  lake: S3Lake,
  scratchDir: string,
  period: Period = {},
  opts: { free?: FreeSpace } = {},
): Promise<FactsSession> {
  await mkdir(scratchDir, { recursive: true });
  const work = await mkdtemp(join(scratchDir, 'query-'));
  let engine: LakeEngine | undefined;
  try {
    const parquet = (await lake.listFacts()).filter((o) => {
      const day = /^facts\/day=(\d{4}-\d{2}-\d{2})\//.exec(o.key)?.[1];
      return day !== undefined && inPeriod(day, period);
    });
    const staging = (await lake.listStaging()).filter((o) => {
      const parts = parseStagingKey(o.key);
      return parts !== undefined && inPeriod(parts.day, period);
    });
    // The first-seen table: its day objects (and the older one-object table, until a close splits it).
    const firstSeen = (await lake.list(FIRST_SEEN_PREFIX)).filter((o) => o.key.endsWith('.parquet'));
    const needed = [...parquet, ...staging, ...firstSeen].reduce((sum, o) => sum + o.size, 0);
    await ensureScratchRoom(scratchDir, needed, `the facts of ${describePeriod(period)} need`, opts.free);
    await Promise.all([
      mapLimit(parquet, 32, (o) => lake.download(o.key, join(work, o.key), { etag: o.etag, cached: true })),
      mapLimit(firstSeen, 32, (o) => lake.download(o.key, join(work, o.key), { etag: o.etag, cached: true })),
      mapLimit(staging, 32, (o) => lake.download(o.key, join(work, o.key))),
    ]);
    engine = await LakeEngine.open({ scratchDir: work });
    await engine.run(`CREATE VIEW first_seen AS ${readFirstSeen(firstSeen.map((o) => join(work, o.key)))}`);
    const view = allFacts({
      parquet: parquet.length > 0 ? join(work, FACTS_PREFIX, '*', '*.parquet') : undefined,
      staging: staging.length > 0 ? join(work, 'staging', '*', '*', '*.csv') : undefined,
    });
    await engine.run(`CREATE VIEW facts AS ${view}`);
    // From here on the engine reads nothing but the copies, and nobody can change that.
    await engine.run(`SET allowed_directories = [${literal(work)}]`);
    await engine.run(`SET enable_external_access = false`);
    await engine.run(`SET lock_configuration = true`);
    const opened = engine;
    return {
      engine: opened,
      objects: parquet.length + staging.length,
      close: async () => {
        opened.close();
        await rm(work, { recursive: true, force: true });
      },
    };
  } catch (err) {
    engine?.close();
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The facts sessions of one job, shared by its steps: a step whose period an open session covers uses that one
 * (the render job's partner statistics and its warnings ask for overlapping periods — the whole history on a
 * first run — and each session copies its objects and opens an engine). No facts lie before `firstDay` (the
 * first deployment or counted day), so a period reaching back further is covered from there on.
 */
export class FactsSessions {
  private readonly opened: { from: string; to: string; session: Promise<FactsSession> }[] = [];

  constructor(
    private readonly lake: S3Lake,
    private readonly scratchDir: string,
    private readonly firstDay?: string,
    private readonly opts: { free?: FreeSpace } = {},
  ) {}

  get(period: { from: string; to: string }): Promise<FactsSession> {
    const from = this.firstDay && period.from < this.firstDay ? this.firstDay : period.from;
    const open = this.opened.find((o) => o.from <= from && o.to >= period.to);
    if (open) return open.session;
    const session = openFactsSession(this.lake, this.scratchDir, { from, to: period.to }, this.opts);
    const entry = { from, to: period.to, session };
    this.opened.push(entry);
    // A session that could not open (a period too large for the scratch directory) is forgotten, so a
    // shorter period within it opens its own.
    session.catch(() => {
      const i = this.opened.indexOf(entry);
      if (i !== -1) this.opened.splice(i, 1);
    });
    return session;
  }

  async close(): Promise<void> {
    const sessions = this.opened.splice(0);
    for (const o of sessions) await (await o.session.catch(() => undefined))?.close();
  }
}

/** Strips SQL comments (`-- …` and `/* … *\/`) outside quoted text. */
function withoutComments(sql: string): string {
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      out += ' ';
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * The read-only rule without an engine at hand (Athena parses only when it runs): one statement, starting with
 * SELECT or WITH, no `;` but a trailing one. Returns the statement without the trailing `;`.
 */
export function checkReadOnlyText(sql: string): string {
  const text = withoutComments(sql).trim().replace(/;\s*$/, '');
  // A ';' outside quotes means a second statement.
  const unquoted = text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, "''");
  if (unquoted.includes(';')) throw new QueryError('query_refused', 'exactly one statement is allowed');
  if (!/^(select|with)\b/i.test(text)) throw new QueryError('query_refused', 'only a read-only SELECT or WITH … SELECT statement is allowed');
  if (/^with\b/i.test(text) && /\b(insert|update|delete|merge|create|drop|alter|unload)\b/i.test(unquoted)) {
    throw new QueryError('query_refused', 'only a read-only SELECT or WITH … SELECT statement is allowed');
  }
  return text;
}

/**
 * Refuses anything but one SELECT (or WITH … SELECT) statement, with a QueryError (`query_refused`): first
 * by the text (as for Athena), then by DuckDB's own parser — the text is split into statements and the one
 * statement's type is checked.
 */
export async function checkReadOnly(engine: LakeEngine, sql: string): Promise<void> {
  checkReadOnlyText(sql);
  let count: number;
  let extracted;
  try {
    extracted = await engine.connection.extractStatements(sql);
    count = extracted.count;
  } catch (err) {
    throw new QueryError('query_invalid', `the query does not parse: ${firstLine(err)}`);
  }
  if (count !== 1) throw new QueryError('query_refused', `exactly one statement is allowed, got ${count}`);
  let prepared;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    throw new QueryError('query_invalid', `the query cannot run: ${firstLine(err)}`);
  }
  // StatementType.SELECT is 1 in DuckDB's C API; WITH … SELECT is a SELECT too.
  if (prepared.statementType !== 1) {
    throw new QueryError('query_refused', 'only a read-only SELECT or WITH … SELECT statement is allowed');
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

/** Runs one read-only statement over `facts`; a query error is a QueryError (`query_invalid`). */
export async function runReadOnlyQuery(session: FactsSession, sql: string): Promise<QueryResult> {
  await checkReadOnly(session.engine, sql);
  try {
    return await session.engine.query(sql);
  } catch (err) {
    throw new QueryError('query_invalid', `the query failed: ${firstLine(err)}`);
  }
}
