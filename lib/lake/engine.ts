/**
 * The embedded engine (DESIGN §13): DuckDB through `@duckdb/node-api`, in process, on local files only.
 *
 * Its Parquet, JSON and CSV readers are compiled into the package, so nothing is installed or loaded at run
 * time: automatic extension installation and loading are switched off, and the engine works offline. Spills go
 * to the job's scratch directory (Lambda's /tmp), never elsewhere.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface QueryResult {
  columns: string[];
  rows: Record<string, JsonValue>[];
}

export interface EngineOptions {
  /** Directory the engine may spill to; created if missing. */
  scratchDir: string;
  /** DuckDB memory limit, e.g. '2GB'; default: DuckDB's (80 % of the machine). */
  memoryLimit?: string;
  threads?: number;
}

/** Values as JSON: BIGINT and HUGEINT as numbers, timestamps as ISO 8601 UTC, nested values recursively. */
export function toJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v);
    return out;
  }
  return String(value);
}

export class LakeEngine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(opts: EngineOptions): Promise<LakeEngine> {
    const spill = join(opts.scratchDir, 'duckdb-spill');
    await mkdir(spill, { recursive: true });
    const config: Record<string, string> = {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      temp_directory: spill,
    };
    if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
    if (opts.threads) config.threads = String(opts.threads);
    // Loaded on first use: commands and runs that query nothing do not load the engine's native library.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', config);
    return new LakeEngine(instance, await instance.connect());
  }

  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  async query(sql: string): Promise<QueryResult> {
    const reader = await this.connection.runAndReadAll(sql);
    const columns = reader.columnNames();
    const rows = reader.getRowsJS().map((row) => {
      const out: Record<string, JsonValue> = {};
      columns.forEach((c, i) => (out[c] = toJson(row[i])));
      return out;
    });
    return { columns, rows };
  }

  async rows<T = Record<string, JsonValue>>(sql: string): Promise<T[]> {
    return (await this.query(sql)).rows as T[];
  }

  /** Appends rows of strings to an existing table (much faster than INSERT texts for many rows). */
  async appendRows(table: string, rows: Iterable<readonly string[]>): Promise<void> {
    const appender = await this.connection.createAppender(table);
    try {
      for (const row of rows) {
        for (const v of row) appender.appendVarchar(v);
        appender.endRow();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
  }

  /** The engine as the statistics use it: rows of one text, and tables kept for a period's queries. */
  get statistics(): { run: (sql: string) => Promise<Record<string, JsonValue>[]>; materialize: (sql: string) => Promise<void> } {
    return { run: (sql) => this.rows(sql), materialize: (sql) => this.run(sql) };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
