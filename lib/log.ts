/**
 * The logging surface lib/ code uses. Lambdas pass a Powertools Logger (which has this shape); the local
 * stack and the CLI pass a small JSON-lines logger. Never log secrets, keys or raw source addresses.
 */
export interface Log {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** One JSON object per line on stderr, like the Lambda logs, so the same queries work locally. */
export function jsonLinesLog(service: string, level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Log {
  const order = { debug: 0, info: 1, warn: 2, error: 3 } as const;
  const write = (lvl: keyof typeof order) => (message: string, ...extra: Record<string, unknown>[]) => {
    if (order[lvl] < order[level]) return;
    const fields = Object.assign({}, ...extra) as Record<string, unknown>;
    process.stderr.write(`${JSON.stringify({ level: lvl.toUpperCase(), time: new Date().toISOString(), service, message, ...fields })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Turns an unknown error into loggable fields (name, message, stack) without request data. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) return { error: { name: err.name, message: err.message, stack: err.stack } };
  return { error: { message: String(err) } };
}
