/**
 * Secrets of the local stack, created on first use under `<data-dir>/secrets/` (mode 600): the pseudonym key
 * and the partner-link signing key pair. On AWS they live in SSM/Secrets Manager, never in the repo.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { generateLinkKeyPair } from '../links/signed-url.js';

export const LOCAL_KEY_PAIR_ID = 'LOCALDEVKEY';

export interface LocalSecrets {
  pseudonymKey: Buffer;
  keyPairId: string;
  linkPrivateKeyPem: string;
  linkPublicKeyPem: string;
}

async function readOrCreate(path: string, create: () => string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const value = create();
    // 'wx': two processes starting at once must not overwrite each other's key.
    await writeFile(path, value, { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
    return readFile(path, 'utf8');
  }
}

export async function localSecrets(dataDir: string): Promise<LocalSecrets> {
  const dir = join(resolve(dataDir), 'secrets');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pseudonymKey = Buffer.from((await readOrCreate(join(dir, 'pseudonym.key'), () => randomBytes(32).toString('base64'))).trim(), 'base64');
  let pair: { privateKeyPem: string; publicKeyPem: string } | undefined;
  const linkPrivateKeyPem = await readOrCreate(join(dir, 'link-private.pem'), () => (pair = generateLinkKeyPair()).privateKeyPem);
  const linkPublicKeyPem = await readOrCreate(join(dir, 'link-public.pem'), () => {
    if (pair) return pair.publicKeyPem;
    throw new Error(`${dir}/link-public.pem is missing while link-private.pem exists: restore it or remove both`);
  });
  return { pseudonymKey, keyPairId: LOCAL_KEY_PAIR_ID, linkPrivateKeyPem, linkPublicKeyPem };
}
