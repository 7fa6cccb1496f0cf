/** `alertgraph keygen` (DESIGN §10): a sensor's key pair. Light on imports, like push: the sensor client bundles it. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { EXIT, UsageError, output } from '../args.js';
import type { Handler } from '../commands.js';
import { generateSensorKeyPair } from '../../signing/keys.js';

export const handler: Handler<'keygen'> = async ({ options }) => {
  const pair = generateSensorKeyPair();
  await writeFile(options.out, pair.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new UsageError(`${options.out} exists; refusing to overwrite a key`);
    throw err;
  });
  output(options.json).result({ publicKey: pair.publicKey, privateKeyFile: resolve(options.out) }, pair.publicKey);
  return EXIT.ok;
};
