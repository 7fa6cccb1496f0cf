/** `alertgraph keygen` (DESIGN §10): a sensor's key pair. Light on imports, like push (lib/cli/sensor.ts). */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EXIT, UsageError, output, parse, printHelp } from './args.js';
import { generateSensorKeyPair } from '../signing/keys.js';

export const KEYGEN_HELP = `Usage: alertgraph keygen --out <file> [--json]

Writes a new Ed25519 private key (PEM, mode 600) to <file> and prints the public key (base64url, raw 32 bytes)
to register with \`alertgraph sensor add\`.`;

export async function cmdKeygen(argv: string[]): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' } });
  if (values.help) return printHelp(KEYGEN_HELP);
  if (!values.out) throw new UsageError('--out <file> is required');
  const pair = generateSensorKeyPair();
  await writeFile(values.out, pair.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new UsageError(`${values.out} exists; refusing to overwrite a key`);
    throw err;
  });
  output(values.json).result({ publicKey: pair.publicKey, privateKeyFile: resolve(values.out) }, pair.publicKey);
  return EXIT.ok;
}
