/**
 * The light sensor client, `alertgraph-sensor`: `push` and `keygen` only, the two commands a sensor host runs.
 * `npm run build` bundles this file into one self-contained `dist/alertgraph-sensor.mjs` (lib/build/bundle.ts);
 * it imports nothing of the admin side, so the bundle carries neither the AWS SDK, the CDK, DynamoDB Local,
 * DuckDB nor sharp. Same table, options, output and exit codes as `alertgraph push` / `alertgraph keygen`.
 */
import { EXIT } from './args.js';
import { SENSOR_CLIENT_PROGRAM } from './commands.js';
import { handler as keygen } from './commands/keygen.js';
import { handler as push } from './commands/push.js';
import { runProgram } from './program.js';

export async function sensorMain(argv: string[]): Promise<number> {
  if (argv[0] === '--version') {
    process.stdout.write(`${SENSOR_VERSION}\n`);
    return EXIT.ok;
  }
  return runProgram(SENSOR_CLIENT_PROGRAM, argv, { keygen: async () => keygen, push: async () => push });
}

/** Replaced by the bundler with the package version; "dev" when run from the sources. */
declare const __ALERTGRAPH_VERSION__: string | undefined;
const SENSOR_VERSION = typeof __ALERTGRAPH_VERSION__ === 'string' ? __ALERTGRAPH_VERSION__ : 'dev';
