/**
 * The operator CLI (DESIGN §10): `alertgraph <command> [options]`. The commands, their options and help are
 * the table of lib/cli/commands.ts; each command's handler is a file of lib/cli/commands/. Returns the exit code.
 */
import { ALERTGRAPH } from './commands.js';
import { runProgram, type Handlers } from './program.js';

/**
 * Handlers are imported when their command runs: admin ones load the AWS SDK, the render job with Vega and
 * sharp, DuckDB; `push` runs for months on sensors and should not carry them, and `--help` needs none.
 */
const HANDLERS: Required<Handlers> = {
  dev: async () => (await import('./commands/dev.js')).handler,
  keygen: async () => (await import('./commands/keygen.js')).handler,
  sensor: async () => (await import('./commands/sensor.js')).handler,
  push: async () => (await import('./commands/push.js')).handler,
  stats: async () => (await import('./commands/stats.js')).handler,
  render: async () => (await import('./commands/render.js')).handler,
  rebuild: async () => (await import('./commands/rebuild.js')).handler,
  partner: async () => (await import('./commands/partner.js')).handler,
  query: async () => (await import('./commands/query.js')).handler,
  report: async () => (await import('./commands/report.js')).handler,
  warnings: async () => (await import('./commands/warnings.js')).handler,
};

export function main(argv: string[]): Promise<number> {
  return runProgram(ALERTGRAPH, argv, HANDLERS);
}
