/** `alertgraph sensor add | list | revoke` (DESIGN §10): the sensor registry of the local or a deployed stack. */
import { readFile, stat } from 'node:fs/promises';
import { EXIT, UsageError, output } from '../args.js';
import type { Handler } from '../commands.js';
import { adminContext } from '../../admin/context.js';
import { publicKeyFromBase64url } from '../../signing/keys.js';
import { registerSensor } from '../../store/registry.js';
import { ID_PATTERN } from '../../store/table.js';

/** --public-key: the key itself, or a file holding it; the raw 32 bytes in base64url. */
async function readPublicKey(value: string): Promise<string> {
  let text = value;
  try {
    if ((await stat(value)).isFile()) text = (await readFile(value, 'utf8')).trim();
  } catch {
    /* not a file */
  }
  let key: ReturnType<typeof publicKeyFromBase64url>;
  try {
    key = publicKeyFromBase64url(text.trim());
  } catch (err) {
    throw new UsageError(`--public-key is not an Ed25519 public key (base64url of 32 bytes, or a file holding one; \`alertgraph keygen\` prints it): ${(err as Error).message}`);
  }
  const raw = key.export({ format: 'jwk' }).x;
  if (typeof raw !== 'string') throw new UsageError('--public-key is not an Ed25519 public key');
  return raw;
}

export const handler: Handler<'sensor'> = {
  add: async ({ options, args: { id } }) => {
    // The command line is checked before the stack is looked for: a bad key is a usage error, stack or not.
    if (!ID_PATTERN.test(id)) throw new UsageError('sensor id must be 1–63 chars of a-z, 0-9 and -, starting with a letter or digit');
    const publicKey = await readPublicKey(options['public-key']);
    const ctx = await adminContext(options['data-dir'], options.stack);
    const { profile, replaced } = await registerSensor(
      ctx.registry,
      { id, publicKey, deployedAt: options.deployed, name: options.name, location: options.location },
      new Date().toISOString(),
    );
    output(options.json).result(profile, `${replaced ? 'updated' : 'added'} sensor ${id} (deployed ${profile.deployedAt})`);
    return EXIT.ok;
  },
  list: async ({ options }) => {
    const ctx = await adminContext(options['data-dir'], options.stack);
    const sensors = await ctx.registry.listSensors();
    output(options.json).result(
      { sensors },
      sensors.length === 0
        ? 'no sensors'
        : sensors.map((s) => `${s.id.padEnd(20)} ${s.status.padEnd(8)} deployed ${s.deployedAt}  ${s.name}${s.location ? ` (${s.location})` : ''}`).join('\n'),
    );
    return EXIT.ok;
  },
  revoke: async ({ options, args: { id } }) => {
    const ctx = await adminContext(options['data-dir'], options.stack);
    const at = new Date().toISOString();
    if (!(await ctx.registry.revokeSensor(id, at))) throw new UsageError(`no sensor "${id}"`);
    output(options.json).result({ id, status: 'revoked', revokedAt: at }, `revoked sensor ${id}; its batches are refused within a minute`);
    return EXIT.ok;
  },
};
