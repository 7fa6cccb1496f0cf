/**
 * One source for every setting (lib/settings.ts): a default, a range or a variable name changed in the table
 * is what the deployment, the functions' loaders, the functions' environments and the local stacks use; the
 * constants other modules keep are the table's values; the dev stack's state file carries its settings to
 * `render` and `rebuild`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDeployConfig } from '../../cdk/config.js';
import { DEFAULT_HORIZON_DAYS, DEFAULT_MAX_ALERTS } from '../../lib/alerts/validate.js';
import { adminContext, localRenderService } from '../../lib/admin/context.js';
import { loadIngestConfig, loadRenderConfig } from '../../lib/config.js';
import { DEFAULT_LIMITS } from '../../lib/ingest/ingest-batch.js';
import { generateLinkKeyPair } from '../../lib/links/signed-url.js';
import { writeLocalState } from '../../lib/local/state.js';
import { silentLog } from '../../lib/log.js';
import { DEFAULT_WATCHED_PORTS as FIGURES_WATCHED_PORTS } from '../../lib/render/figures.js';
import { checkStackSettings, ConfigError, defaultStackSettings, functionEnvironment, SETTINGS } from '../../lib/settings.js';

const linkPublicKeyPem = generateLinkKeyPair().publicKeyPem;
const context = (values: Record<string, unknown>) => (key: string) => values[key];
const REQUIRED_ENV = { TABLE_NAME: 't', BUCKET_NAME: 'b', PSEUDONYM_KEY: Buffer.alloc(32, 1).toString('base64'), PUBLIC_BASE_URL: 'https://cdn.example' };

type Mutable = { default: unknown; env?: string; min?: number; max?: number };
const saved = new Map<Mutable, Mutable>();
/** Changes one entry of the table for one test (restored afterwards). */
function change(setting: object, to: Partial<Mutable>): void {
  const s = setting as Mutable;
  if (!saved.has(s)) saved.set(s, { ...s });
  Object.assign(s, to);
}
afterEach(() => {
  for (const [s, original] of saved) Object.assign(s, original);
  saved.clear();
});

describe('a setting declared once', () => {
  it('changing the horizon default in the table changes the deployment default, both loaders and the local stacks', () => {
    change(SETTINGS.horizonDays, { default: 123 });
    expect(loadDeployConfig(context({ linkPublicKeyPem })).horizonDays).toBe(123);
    expect(loadIngestConfig(REQUIRED_ENV).horizonDays).toBe(123);
    expect(loadRenderConfig(REQUIRED_ENV).horizonDays).toBe(123);
    expect(defaultStackSettings().horizonDays).toBe(123);
  });

  it('changing the horizon variable name changes what the loader reads and what the stack writes into the function', () => {
    change(SETTINGS.horizonDays, { env: 'ALERT_HORIZON' });
    expect(loadIngestConfig({ ...REQUIRED_ENV, ALERT_HORIZON: '77', HORIZON_DAYS: '5' }).horizonDays).toBe(77);
    expect(functionEnvironment({ horizonDays: 77 })).toEqual({ ALERT_HORIZON: '77' });
  });

  it('changing a range changes what the deployment and the loader refuse', () => {
    change(SETTINGS.horizonDays, { max: 500 });
    expect(() => loadDeployConfig(context({ linkPublicKeyPem, horizonDays: '501' }))).toThrow(/horizonDays must be an integer between 1 and 500/);
    expect(() => loadIngestConfig({ ...REQUIRED_ENV, HORIZON_DAYS: '501' })).toThrow(/HORIZON_DAYS must be an integer between 1 and 500/);
  });

  it('changing the daily close in the table changes the deployment, the render loader and the local stacks', () => {
    change(SETTINGS.dailyRenderAt, { default: '03:45' });
    expect(loadDeployConfig(context({ linkPublicKeyPem })).dailyRenderAt).toBe('03:45');
    expect(loadRenderConfig(REQUIRED_ENV).closeAfterMinutes).toBe(3 * 60 + 45);
    expect(defaultStackSettings().dailyRenderAt).toBe('03:45');
  });

  it('changing the watched ports in the table changes the deployment, the render loader and the local stacks', () => {
    change(SETTINGS.watchedPorts, { default: 'tcp/22' });
    expect(loadDeployConfig(context({ linkPublicKeyPem })).watchedPorts).toBe('tcp/22');
    expect(loadRenderConfig(REQUIRED_ENV).watchedPorts).toEqual(['tcp/22']);
    expect(defaultStackSettings().watchedPorts).toEqual(['tcp/22']);
  });

  it('the limits other modules keep as constants are the table\'s defaults', () => {
    expect([DEFAULT_LIMITS.horizonDays, DEFAULT_HORIZON_DAYS]).toEqual([SETTINGS.horizonDays.default, SETTINGS.horizonDays.default]);
    expect([DEFAULT_LIMITS.maxAlertsPerBatch, DEFAULT_MAX_ALERTS]).toEqual([SETTINGS.maxAlertsPerBatch.default, SETTINGS.maxAlertsPerBatch.default]);
    expect(DEFAULT_LIMITS.maxBodyBytes).toBe(SETTINGS.maxBodyBytes.default);
    expect(FIGURES_WATCHED_PORTS).toEqual(SETTINGS.watchedPorts.default.split(','));
  });

  it("gives the render function Athena for its statistics only with both the lake's workgroup and database", () => {
    expect(loadRenderConfig(REQUIRED_ENV).athena).toBeUndefined();
    expect(loadRenderConfig({ ...REQUIRED_ENV, ...functionEnvironment({ lakeWorkGroup: 'wg', lakeDatabase: 'db' }) }).athena).toEqual({ workGroup: 'wg', database: 'db' });
    expect(() => loadRenderConfig({ ...REQUIRED_ENV, ...functionEnvironment({ lakeWorkGroup: 'wg' }) })).toThrow(/LAKE_WORK_GROUP and LAKE_DATABASE go together/);
  });

  it('refuses to put a setting the functions do not read into their environment', () => {
    expect(() => functionEnvironment({ rawRetentionDays: 430 })).toThrow(/not read from the environment/);
  });

  it('checks settings read back from a state file or outputs like the functions do', () => {
    expect(() => checkStackSettings({ horizonDays: 0 }, 'stack.json')).toThrow(ConfigError);
    expect(() => checkStackSettings({ dailyRenderAt: '25:00' }, 'stack.json')).toThrow(/dailyRenderAt must be a UTC time/);
    expect(checkStackSettings({ horizonDays: '30', watchedPorts: ['TCP/22'] }, 'x')).toEqual({ horizonDays: 30, dailyRenderAt: '00:30', watchedPorts: ['tcp/22'] });
  });
});

describe('the dev stack\'s settings reach render and rebuild', () => {
  async function stateWith(settings?: { horizonDays: number; dailyRenderAt: string; watchedPorts: string[] }) {
    const dataDir = mkdtempSync(join(tmpdir(), 'alertgraph-settings-'));
    await writeLocalState(dataDir, {
      version: 1,
      // This process: the state reads as a running dev stack. Nothing is contacted until a command runs.
      pid: process.pid,
      url: 'http://127.0.0.1:1',
      dynamoEndpoint: 'http://127.0.0.1:1',
      s3Endpoint: 'http://127.0.0.1:1',
      tableName: 'alertgraph',
      bucketName: 'alertgraph',
      startedAt: new Date().toISOString(),
      ...(settings ? { settings } : {}),
    });
    return dataDir;
  }

  it('renders with the close time and watched ports recorded in stack.json, not the defaults', async () => {
    const ctx = await adminContext(await stateWith({ horizonDays: 30, dailyRenderAt: '02:00', watchedPorts: ['tcp/22'] }), undefined);
    const service = await localRenderService(ctx, silentLog);
    expect([service.deps.closeAfterMinutes, service.deps.watchedPorts]).toEqual([120, ['tcp/22']]);
  });

  it('rebuilds with the horizon recorded in stack.json (the expiry of the contributions it writes)', async () => {
    const ctx = await adminContext(await stateWith({ horizonDays: 30, dailyRenderAt: '02:00', watchedPorts: ['tcp/22'] }), undefined);
    expect(ctx.settings.horizonDays).toBe(30);
    expect((ctx.ledger as unknown as { horizonDays: number }).horizonDays).toBe(30);
  });

  it('takes a state file of an older version, which recorded no settings, as the defaults it ran with', async () => {
    const ctx = await adminContext(await stateWith(), undefined);
    expect(ctx.settings).toEqual(defaultStackSettings());
  });
});
