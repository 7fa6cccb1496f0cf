/**
 * The light sensor client, `alertgraph-sensor`: `push` and `keygen` only, the two commands a sensor host runs.
 * `npm run build` bundles this file into one self-contained `dist/alertgraph-sensor.mjs` (lib/build/bundle.ts);
 * it imports nothing of the admin side, so the bundle carries neither the AWS SDK, the CDK, DynamoDB Local,
 * DuckDB nor sharp. Same options, output and exit codes as `alertgraph push` / `alertgraph keygen`.
 */
import { EXIT, StackUnavailable, UsageError } from './args.js';
import { cmdKeygen } from './keygen.js';
import { cmdPush } from './push.js';

export const SENSOR_HELP = `alertgraph-sensor — the sensor side of alertgraph: send IDS alerts as signed batches

Usage: alertgraph-sensor <command> [options]   (node alertgraph-sensor.mjs …, Node.js 20 or later)

Commands:
  keygen         create the sensor's Ed25519 key pair
  push           send a log (Suricata EVE, Snort 3 alert_json, native) as signed batches; --follow tails it

Every command takes --help and --json. Exit codes: 0 done, 1 refused batches or an unexpected error,
2 bad command line, 69 no endpoint, 75 endpoint unreachable (batches spooled; run again).`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { keygen: cmdKeygen, push: cmdPush };

export async function sensorMain(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${SENSOR_HELP}\n`);
    return EXIT.ok;
  }
  if (name === '--version') {
    process.stdout.write(`${SENSOR_VERSION}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`alertgraph-sensor: unknown command "${name}" (keygen, push)\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest);
  } catch (err) {
    process.stderr.write(`alertgraph-sensor ${name}: ${(err as Error).message}\n`);
    if (err instanceof UsageError) return EXIT.usage;
    if (err instanceof StackUnavailable) return EXIT.unavailable;
    return EXIT.failure;
  }
}

/** Replaced by the bundler with the package version; "dev" when run from the sources. */
declare const __ALERTGRAPH_VERSION__: string | undefined;
const SENSOR_VERSION = typeof __ALERTGRAPH_VERSION__ === 'string' ? __ALERTGRAPH_VERSION__ : 'dev';
