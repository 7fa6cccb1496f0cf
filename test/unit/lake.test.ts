/**
 * The lake's pure parts and the embedded engine on local files: the staging rows of a batch (pseudonyms,
 * networks, quoting) read back by DuckDB exactly, the engine offline, and the read-only rule and period
 * wrapping shared with Athena.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../lib/alerts/types.js';
import { athenaRows, withPeriod } from '../../lib/lake/athena.js';
import { LakeEngine } from '../../lib/lake/engine.js';
import fc from 'fast-check';
import { factsCsv, pseudonym, Pseudonyms, sourceNetwork } from '../../lib/lake/facts.js';
import { checkReadOnlyText } from '../../lib/lake/query.js';
import { ensureScratchRoom, freeBytes, ScratchTooSmallError } from '../../lib/lake/scratch.js';
import { stagingFacts } from '../../lib/lake/sql.js';
import { stagingKey } from '../../lib/publish/layout.js';

const KEY = Buffer.alloc(32, 3);
const t0 = Date.parse('2026-11-20T23:59:59.500Z');

const alerts: Alert[] = [
  { time: t0, sensor: 's1', srcIp: '192.0.2.1', srcPort: 4000, dstIp: '198.51.100.7', dstPort: 445, proto: 'tcp', sigId: 2001, signature: 'ET SCAN "quoted", comma\nnewline', category: 'Attempted Recon', severity: 2 },
  { time: t0 + 1000, sensor: 's1', srcIp: '2001:db8::1', proto: 'icmp', signature: '', category: 'Misc' },
  { time: t0 + 2000, sensor: 's1', srcIp: '192.0.2.1', dstPort: 53, proto: 'udp' },
];

describe('staging facts', () => {
  it('names networks at /8 and /16, never finer', () => {
    expect(sourceNetwork('192.0.2.1')).toBe('192.0.0.0/8');
    expect(sourceNetwork('10.255.255.255')).toBe('10.0.0.0/8');
    expect(sourceNetwork('2001:db8::1')).toBe('2001::/16');
    expect(sourceNetwork('::1')).toBe('::/16');
    expect(sourceNetwork('fe80::1')).toBe('fe80::/16');
  });

  it('writes one row per alert and holds no address, only pseudonyms', () => {
    const all = factsCsv(alerts, KEY);
    expect(all.split('\n').filter((l) => /^\d{13},/.test(l))).toHaveLength(3);
    for (const ip of ['192.0.2.1', '198.51.100.7', '2001:db8::1']) expect(all).not.toContain(ip);
    expect(all).toContain(pseudonym(KEY, '192.0.2.1'));
    // A keyed pseudonym: another key gives another name.
    expect(pseudonym(Buffer.alloc(32, 4), '192.0.2.1')).not.toBe(pseudonym(KEY, '192.0.2.1'));
  });

  it('writes exactly these rows (time, src, net, ports, dst, proto, signature, quoted texts, severity, scan)', () => {
    const src = pseudonym(KEY, '192.0.2.1');
    expect(factsCsv(alerts, KEY)).toBe(
      `${t0},${src},192.0.0.0/8,4000,${pseudonym(KEY, '198.51.100.7')},445,tcp,2001,"ET SCAN ""quoted"", comma\nnewline","Attempted Recon",2,true\n` +
        `${t0 + 1000},${pseudonym(KEY, '2001:db8::1')},2001::/16,,,,icmp,,"","Misc",,false\n` +
        `${t0 + 2000},${src},192.0.0.0/8,,,53,udp,,,,,false\n`,
    );
  });
});

describe('pseudonyms kept per container', () => {
  const ipv4 = fc.ipV4();
  const ipv6 = fc.ipV6();
  it('are exactly HMAC-SHA256 of node:crypto, first 16 bytes in base64url, for any address and key length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 130 }), fc.array(fc.oneof(ipv4, ipv6), { minLength: 1, maxLength: 20 }), (key, ips) => {
        const names = new Pseudonyms(key);
        for (const ip of ips) expect(names.of(ip)).toBe(pseudonym(key, ip));
      }),
      { numRuns: 200 },
    );
  });

  it('fall back to node:crypto for text that is not a short ASCII address, with the same result', () => {
    const names = new Pseudonyms(KEY);
    for (const text of ['', 'x'.repeat(55), 'x'.repeat(56), 'y'.repeat(200), 'adresse-é', '2001:db8::1\u{1F600}']) {
      expect(names.of(text)).toBe(pseudonym(KEY, text));
    }
  });

  it('keep at most their bound, oldest first out, and stay right after eviction', () => {
    const names = new Pseudonyms(KEY, 3);
    const ips = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.1'];
    for (const ip of ips) expect(names.of(ip)).toBe(pseudonym(KEY, ip));
    expect(names.size).toBe(3);
  });
});

describe('the embedded engine', () => {
  let dir: string;
  let engine: LakeEngine;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alertgraph-engine-'));
    engine = await LakeEngine.open({ scratchDir: dir });
  });
  afterAll(async () => {
    engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the staging rows back exactly: sensor and batch from the key, the UTC day from each time', async () => {
    const path = join(dir, stagingKey('2026-11-20', 's1', 'key:1.a'));
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, factsCsv(alerts, KEY));
    const rows = await engine.rows(`${stagingFacts(join(dir, 'staging', '*', '*', '*.csv'))} ORDER BY time`);
    expect(rows).toEqual([
      {
        day: '2026-11-20', time: '2026-11-20T23:59:59.500Z', sensor: 's1', src: pseudonym(KEY, '192.0.2.1'), src_net: '192.0.0.0/8', src_port: 4000,
        dst: pseudonym(KEY, '198.51.100.7'), dst_port: 445, proto: 'tcp', sig_id: 2001, signature: 'ET SCAN "quoted", comma\nnewline',
        category: 'Attempted Recon', severity: 2, sig_scan: true, batch: 's1/key:1.a',
      },
      {
        day: '2026-11-21', time: '2026-11-21T00:00:00.500Z', sensor: 's1', src: pseudonym(KEY, '2001:db8::1'), src_net: '2001::/16', src_port: null,
        dst: null, dst_port: null, proto: 'icmp', sig_id: null, signature: '', category: 'Misc', severity: null, sig_scan: false, batch: 's1/key:1.a',
      },
      {
        day: '2026-11-21', time: '2026-11-21T00:00:01.500Z', sensor: 's1', src: pseudonym(KEY, '192.0.2.1'), src_net: '192.0.0.0/8', src_port: null,
        dst: null, dst_port: 53, proto: 'udp', sig_id: null, signature: null, category: null, severity: null, sig_scan: false, batch: 's1/key:1.a',
      },
    ]);
  });

  it('works offline: nothing to install or load, no remote reader', async () => {
    const loaded = await engine.rows<{ name: string }>(`SELECT extension_name AS name FROM duckdb_extensions() WHERE loaded ORDER BY 1`);
    expect(loaded.map((r) => r.name)).toEqual(expect.arrayContaining(['parquet']));
    expect(loaded.map((r) => r.name)).not.toContain('httpfs');
    // With automatic loading off, a remote path is refused at once instead of fetching an extension.
    await expect(engine.query(`SELECT * FROM read_parquet('https://example.invalid/x.parquet')`)).rejects.toThrow();
    const settings = await engine.rows<{ name: string; value: string }>(
      `SELECT name, value FROM duckdb_settings() WHERE name IN ('autoinstall_known_extensions', 'autoload_known_extensions') ORDER BY name`,
    );
    expect(settings).toEqual([
      { name: 'autoinstall_known_extensions', value: 'false' },
      { name: 'autoload_known_extensions', value: 'false' },
    ]);
  });

  it('gives BIGINT and HUGEINT as JSON numbers', async () => {
    expect(await engine.query('SELECT CAST(2 AS BIGINT) AS b, sum(CAST(x AS BIGINT)) AS h FROM range(3) t(x)')).toEqual({ columns: ['b', 'h'], rows: [{ b: 2, h: 3 }] });
  });
});

describe('the read-only rule and periods (both engines)', () => {
  it('takes one SELECT or WITH statement, comments and a trailing semicolon allowed', () => {
    expect(checkReadOnlyText('-- n\nselect 1; ')).toBe('select 1');
    expect(checkReadOnlyText("/* x */ WITH a AS (SELECT ';' AS s) SELECT * FROM a")).toBe("WITH a AS (SELECT ';' AS s) SELECT * FROM a");
    for (const bad of ['select 1; select 2', 'insert into facts select * from facts', 'with a as (select 1) insert into t select * from a', 'unload (select 1) to', 'create table t as select 1', '']) {
      expect(() => checkReadOnlyText(bad), bad).toThrow(/statement/);
    }
  });

  it('restricts facts to a period with a common table expression', () => {
    expect(withPeriod('select count(*) from facts', '"db"."facts"', {})).toBe('select count(*) from facts');
    expect(withPeriod('select count(*) from facts', '"db"."facts"', { from: '2026-11-01', to: '2026-11-30' })).toBe(
      `WITH facts AS (SELECT * FROM "db"."facts" WHERE day >= '2026-11-01' AND day <= '2026-11-30') select count(*) from facts`,
    );
    expect(withPeriod('with a as (select 1) select * from a', 't', { from: '2026-11-01' })).toBe(
      `WITH facts AS (SELECT * FROM t WHERE day >= '2026-11-01'), a as (select 1) select * from a`,
    );
  });

  it("turns Athena's text values back into numbers, booleans and nulls", () => {
    const columns = [
      { Name: 'n', Type: 'bigint' },
      { Name: 'scan', Type: 'boolean' },
      { Name: 'port', Type: 'varchar' },
    ];
    expect(athenaRows(columns, [{ Data: [{ VarCharValue: '9007199254740991' }, { VarCharValue: 'true' }, {}] }])).toEqual({
      columns: ['n', 'scan', 'port'],
      rows: [{ n: 9007199254740991, scan: true, port: null }],
    });
  });
});

describe('room in the scratch directory', () => {
  it('reads the free space of the directory\'s file system', async () => {
    const free = await freeBytes(tmpdir());
    expect(Number.isSafeInteger(free)).toBe(true);
    expect(free).toBeGreaterThan(1e6);
  });

  it('keeps a tenth of the free space for the engine, and says what did not fit', async () => {
    const free = async () => 10e9;
    await expect(ensureScratchRoom('/tmp', 9e9, 'the facts need', free)).resolves.toBeUndefined();
    const refused = ensureScratchRoom('/tmp', 9e9 + 1, 'the facts of 2026-11-03 to 2026-12-02 need', free);
    await expect(refused).rejects.toBeInstanceOf(ScratchTooSmallError);
    await expect(refused).rejects.toThrow('the facts of 2026-11-03 to 2026-12-02 need 8.38 GiB in /tmp, which has 9.31 GiB free');
    await expect(ensureScratchRoom('/tmp', 2_500_000, 'x needs', async () => 2_000_000)).rejects.toThrow('x needs 2.4 MiB in /tmp, which has 1.9 MiB free');
  });
});
