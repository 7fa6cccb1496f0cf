/** Deployment settings (cdk/config.ts), the schedule helper, and the render function's async config loader. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDeployConfig } from '../../cdk/config.js';
import { lakeNames } from '../../cdk/constructs/lake.js';
import { renderSchedules } from '../../cdk/constructs/render-schedules.js';
import { engineMemoryLimit } from '../../cdk/constructs/render-function.js';
import { ConfigError, loadRenderConfigAsync } from '../../lib/config.js';
import { generateLinkKeyPair } from '../../lib/links/signed-url.js';

const pair = generateLinkKeyPair();
const context = (values: Record<string, unknown>) => (key: string) => values[key];

describe('loadDeployConfig', () => {
  it('refuses to synthesize without a link public key, and says how to give one', () => {
    expect(() => loadDeployConfig(context({}))).toThrow(/linkPublicKeyFile/);
  });

  it('reads the public key from a file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'alertgraph-key-')), 'link-public.pem');
    writeFileSync(file, pair.publicKeyPem);
    expect(loadDeployConfig(context({ linkPublicKeyFile: file })).linkPublicKeyPem).toBe(pair.publicKeyPem);
  });

  it('refuses a private key, which would end up in the template', () => {
    expect(() => loadDeployConfig(context({ linkPublicKeyPem: pair.privateKeyPem }))).toThrow(/PRIVATE key/);
  });

  it('has the documented defaults', () => {
    expect(loadDeployConfig(context({ linkPublicKeyPem: pair.publicKeyPem }))).toMatchObject({
      pseudonymKeyParameter: '/alertgraph/pseudonym-key',
      linkPrivateKeyParameter: '/alertgraph/link-private-key',
      dailyRenderAt: '00:30',
      horizonDays: 400,
      rawRetentionDays: 430,
      logRetention: 30,
      renderMemoryMb: 3008,
      athenaBytesScannedCutoffGb: 10,
    });
  });

  it('refuses a render memory Lambda does not offer', () => {
    expect(() => loadDeployConfig(context({ linkPublicKeyPem: pair.publicKeyPem, renderMemoryMb: '10241' }))).toThrow(/renderMemoryMb must be an integer between 1024 and 10240/);
  });

  it('refuses a scan cutoff of 0 GB', () => {
    expect(() => loadDeployConfig(context({ linkPublicKeyPem: pair.publicKeyPem, athenaBytesScannedCutoffGb: '0' }))).toThrow(/athenaBytesScannedCutoffGb/);
  });

  it('refuses a raw retention shorter than the alert horizon', () => {
    expect(() => loadDeployConfig(context({ linkPublicKeyPem: pair.publicKeyPem, horizonDays: '400', rawRetentionDays: '100' }))).toThrow(
      /rawRetentionDays must be an integer between 403/,
    );
  });

  it('refuses a log retention CloudWatch does not offer', () => {
    expect(() => loadDeployConfig(context({ linkPublicKeyPem: pair.publicKeyPem, logRetentionDays: '31' }))).toThrow(ConfigError);
  });
});

describe('renderSchedules', () => {
  it('runs hourly at the daily minute in every hour but the daily one', () => {
    const s = renderSchedules('02:15');
    expect(s.daily).toEqual({ hour: '2', minute: '15' });
    expect(s.hourly.minute).toBe('15');
    expect(s.hourly.hour.split(',')).toHaveLength(23);
    expect(s.hourly.hour.split(',')).not.toContain('2');
  });
});

describe('engineMemoryLimit', () => {
  it.each([
    [3008, '1804MB'],
    [10240, '6144MB'],
  ])('gives DuckDB 60 %% of a %i MB function', (memory, limit) => {
    expect(engineMemoryLimit(memory)).toBe(limit);
  });
});

describe('lakeNames', () => {
  it('derives a Glue database name Athena needs no quotes for', () => {
    expect(lakeNames('Alertgraph-Prod-2').database).toBe('alertgraph_prod_2_lake');
  });

  it('derives a workgroup name within Athena\'s 128 characters', () => {
    expect(lakeNames('Alertgraph').workGroup).toBe('Alertgraph-lake');
    expect(lakeNames(`A${'b'.repeat(127)}`).workGroup).toHaveLength(128);
  });
});

describe('loadRenderConfigAsync', () => {
  // The reader comes first in the signature; these tests read better with the environment first.
  const load = (env: Record<string, string>, reader: (name: string) => Promise<string>) => loadRenderConfigAsync(reader, env);
  const base = { TABLE_NAME: 't', BUCKET_NAME: 'b', PUBLIC_BASE_URL: 'https://d1.cloudfront.net' };
  const key = Buffer.alloc(32, 9).toString('base64');

  it('reads the pseudonym key from the SSM parameter named in PSEUDONYM_KEY_PARAMETER', async () => {
    const asked: string[] = [];
    const config = await load({ ...base, PSEUDONYM_KEY_PARAMETER: '/alertgraph/pseudonym-key' }, async (name) => {
      asked.push(name);
      return `${key}\n`;
    });
    expect(asked).toEqual(['/alertgraph/pseudonym-key']);
    expect(Buffer.from(config.pseudonymKey).equals(Buffer.alloc(32, 9))).toBe(true);
  });

  it('uses PSEUDONYM_KEY when it is set, without reading SSM', async () => {
    const config = await load({ ...base, PSEUDONYM_KEY: key, PSEUDONYM_KEY_PARAMETER: '/x' }, () => Promise.reject(new Error('no')));
    expect(config.pseudonymKey).toHaveLength(32);
  });

  it('refuses a short key from SSM, naming the parameter but not the value', async () => {
    const short = Buffer.alloc(8, 1).toString('base64');
    const error = await load({ ...base, PSEUDONYM_KEY_PARAMETER: '/p' }, async () => short).catch((e: Error) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/SSM parameter \/p must decode to at least 32 bytes/);
    expect((error as Error).message).not.toContain(short);
  });

  it('checks the other settings before reading SSM', async () => {
    let read = false;
    await expect(
      load({ PSEUDONYM_KEY_PARAMETER: '/p' }, async () => {
        read = true;
        return key;
      }),
    ).rejects.toThrow(/TABLE_NAME/);
    expect(read).toBe(false);
  });
});
