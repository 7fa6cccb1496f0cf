/**
 * Acceptance 4: 50 push clients at once, 100,000 alerts in all, against `dev`: exact counts, no 5xx.
 *
 * The 50 clients are 50 concurrent `pushLog` calls (the function behind `alertgraph push`) in ONE child
 * process, each with its own sensor, key, log file and spool: 50 node+tsx processes would spend most of the
 * test loading modules on this 2-core machine rather than pushing. `dev` is a process of its own as always.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../../lib/counting/aggregate.js';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { generateSensorKeyPair } from '../../lib/signing/keys.js';
import { DynamoSensorRegistry } from '../../lib/store/registry.js';
import { eveAlert } from '../helpers/eve.js';
import { runCli, runNode, startDev, type DevProcess } from '../helpers/e2e.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLIENTS = 50;
const PER_CLIENT = 2_000;

let dir: string;
let url: string;
let dev: DevProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-e2e-load-'));
  dev = await startDev(dir);
  url = dev.url;
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

/** The child: 50 concurrent pushLog calls; prints their summaries as JSON. */
const CHILD = `
import { readFile } from 'node:fs/promises';
const { pushLog } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'lib/client/push.ts')).href)});
const { Spool } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'lib/client/spool.ts')).href)});
const { privateKeyFromPem } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'lib/signing/keys.ts')).href)});
const clients = JSON.parse(await readFile(process.argv[2], 'utf8'));
const summaries = await Promise.all(clients.map(async (c) => pushLog(c.log, {
  endpoint: c.endpoint, sensor: c.sensor, privateKey: privateKeyFromPem(await readFile(c.key, 'utf8')),
  batchSize: 1000, retryForMs: 120000, spool: new Spool(c.spool),
})));
process.stdout.write(JSON.stringify(summaries));
`;

describe('50 concurrent push clients', () => {
  it('counts 100,000 alerts exactly, with no 5xx and nothing refused or spooled', async () => {
    const day = utcDay(Date.now() - 86_400_000);
    const dayStart = Date.parse(`${day}T00:00:00Z`);
    const { state } = dev!;
    const dynamo = localDynamoClient(state.dynamoEndpoint);
    const registry = new DynamoSensorRegistry(dynamo, state.tableName);
    const clients: { sensor: string; key: string; log: string; spool: string; endpoint: string }[] = [];
    await mkdir(join(dir, 'load'));
    for (let c = 0; c < CLIENTS; c++) {
      const sensor = `load-${String(c).padStart(2, '0')}`;
      const pair = generateSensorKeyPair();
      await registry.putSensor({ id: sensor, publicKey: pair.publicKey, name: sensor, deployedAt: day, status: 'active', createdAt: new Date().toISOString() });
      const key = join(dir, 'load', `${sensor}.pem`);
      await writeFile(key, pair.privateKeyPem, { mode: 0o600 });
      const lines: string[] = [];
      for (let i = 0; i < PER_CLIENT; i++) {
        lines.push(eveAlert({ time: dayStart + (c * PER_CLIENT + i) * 400, dstPort: 1 + ((c + i) % 300), src: `198.51.100.${(c + i) % 250}` }));
      }
      const log = join(dir, 'load', `${sensor}.json`);
      await writeFile(log, `${lines.join('\n')}\n`);
      clients.push({ sensor, key, log, spool: join(dir, 'load', 'spool', sensor), endpoint: url });
    }
    dynamo.destroy();
    const config = join(dir, 'load', 'clients.json');
    await writeFile(config, JSON.stringify(clients));
    const child = join(dir, 'load', 'clients.mjs');
    await writeFile(child, CHILD);

    const started = Date.now();
    const result = await runNode(['--import', 'tsx', child, config], { timeoutMs: 150_000 });
    expect(result.code, result.stderr).toBe(0);
    const summaries = JSON.parse(result.stdout) as { accepted: number; failedBatches: number; spooledBatches: number; duplicateBatches: number; errors: unknown[]; retryStatuses: Record<string, number> }[];
    process.stderr.write(`50 clients, ${CLIENTS * PER_CLIENT} alerts: ${Date.now() - started} ms\n`);
    expect(summaries).toHaveLength(CLIENTS);
    for (const s of summaries) {
      expect(s).toMatchObject({ accepted: PER_CLIENT, failedBatches: 0, spooledBatches: 0, duplicateBatches: 0, errors: [] });
      // No 5xx at all, not even one that a retry then got through.
      expect(Object.keys(s.retryStatuses).filter((status) => Number(status) >= 500)).toEqual([]);
    }

    const stats = await runCli(dir, ['stats', '--from', day, '--to', day, '--json'], { timeoutMs: 90_000 });
    expect(stats.code, stats.stderr).toBe(0);
    const [figures] = (JSON.parse(stats.stdout) as { days: { total: number; bySensor: Record<string, number> }[] }).days;
    expect(figures?.total).toBe(CLIENTS * PER_CLIENT);
    expect(Object.keys(figures?.bySensor ?? {})).toHaveLength(CLIENTS);
    for (const n of Object.values(figures?.bySensor ?? {})) expect(n).toBe(PER_CLIENT);
  }, 240_000);
});
