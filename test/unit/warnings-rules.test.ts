/**
 * The warning rules of DESIGN §15 on hand-made series, through the real engine (DuckDB). Every expected answer
 * is worked out by hand below.
 *
 * The first sensor was deployed on 2026-01-01, so 2026-01-29 is the first day that may be judged. The judged
 * day is mostly 2026-03-01, whose baseline is D-28 … D-1 = 2026-02-01 … 2026-02-28 (all of February). Port
 * rows carry no signature (so only the port is a subject); signature rows are ICMP (so only the signature is).
 *
 *  tcp/1001  28 days: 14 × 10 alerts, 14 × 30 → sorted, positions 14 and 15 are 10 and 30: median 20.
 *            D: 60 alerts = exactly 3 × 20 and ≥ 50 → surge {60, 1} against {20, 1}.
 *  udp/1002  same baseline, D: 59 alerts < 60 → nothing.
 *  tcp/1003  28 days × 10 alerts (median 10), D: 49 alerts ≥ 30 but < 50 → nothing.
 *  tcp/1004  same, D: 50 alerts → surge {50, 1} against {10, 1}.
 *  tcp/1005  28 days × 1 alert from 1 source (medians 1, 1), D: 9 alerts from 9 sources → 9 < 10 → nothing.
 *  tcp/1006  same, D: 10 alerts from 10 sources → surge (sources ≥ 3 and ≥ 10) {10, 10} against {1, 1}.
 *  tcp/1014  same, D: 60 alerts from 12 sources — both figures surge, still one warning {60, 12}.
 *  tcp/1007  one alert on 2026-01-20, none in February; D: 10 sources → new {10, 10} against {0, 0}.
 *  tcp/1008  quiet in February too, D: 9 sources → nothing.
 *  tcp/1009  active on 13 February days (1 alert), D: 100 alerts → too sparse, nothing.
 *  tcp/1010  active on 14 February days (1 alert): 14 zeros then 14 ones, positions 14 and 15 are 0 and 1:
 *            median 0.5; D: 100 alerts ≥ 1.5 and ≥ 50 → surge {100, 1} against {0.5, 0.5}, 14 active days.
 *  tcp/1011  20 active days: 6 × 5 alerts, 14 × 20 (8 zeros): sorted 0×8, 5×6 (positions 9–14), 20×14
 *            (15–28): median (5 + 20) / 2 = 12.5; sources 0×8, 1×20: median 1. D: 50 alerts ≥ 37.5 → surge.
 *  sid:2001  ICMP, never seen before, D: 10 sources → new {10, 10}.
 *  msg:Odd probe   ICMP without a signature id, never seen, D: 12 alerts from 11 sources → new {12, 11}.
 *  tcp/1012  2026-01-28: 10 sources, but that day is before deployment + 28 → never judged.
 *  tcp/1013  2026-01-29: 10 sources, the first judged day → new.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LakeEngine } from '../../lib/lake/engine.js';
import { FACT_COLUMNS } from '../../lib/lake/sql.js';
import { daysBetween } from '../../lib/util/days.js';
import { daysToJudge, judgeableDays, judgeFiguresQuery, judgeQuery, medianPositions, subjectDaysQuery, type JudgedRow } from '../../lib/warnings/rules.js';
import { fromJudgedRow, mergeJudged, warningId } from '../../lib/warnings/model.js';

const FEB = daysBetween('2026-02-01', '2026-02-28');
const D = '2026-03-01';

interface Rows {
  day: string;
  proto: string;
  port?: number;
  sigId?: number;
  signature?: string;
  alerts: number;
  sources: number;
  tag: string;
}

function fixture(): Rows[] {
  const out: Rows[] = [];
  const port = (tag: string, proto: string, p: number, day: string, alerts: number, sources = 1) =>
    out.push({ day, proto, port: p, alerts, sources, tag });
  FEB.forEach((day, i) => {
    port('a', 'tcp', 1001, day, i < 14 ? 10 : 30);
    port('b', 'udp', 1002, day, i < 14 ? 10 : 30);
    port('c', 'tcp', 1003, day, 10);
    port('d', 'tcp', 1004, day, 10);
    port('e', 'tcp', 1005, day, 1);
    port('f', 'tcp', 1006, day, 1);
    port('g', 'tcp', 1014, day, 1);
    if (i < 13) port('h', 'tcp', 1009, day, 1);
    if (i % 2 === 0) port('i', 'tcp', 1010, day, 1); // 14 of the 28 days
    if (i < 20) port('j', 'tcp', 1011, day, i < 6 ? 5 : 20);
  });
  port('a', 'tcp', 1001, D, 60);
  port('b', 'udp', 1002, D, 59);
  port('c', 'tcp', 1003, D, 49);
  port('d', 'tcp', 1004, D, 50);
  port('e', 'tcp', 1005, D, 9, 9);
  port('f', 'tcp', 1006, D, 10, 10);
  port('g', 'tcp', 1014, D, 60, 12);
  port('k', 'tcp', 1007, '2026-01-20', 1);
  port('k', 'tcp', 1007, D, 10, 10);
  port('l', 'tcp', 1008, D, 9, 9);
  port('h', 'tcp', 1009, D, 100);
  port('i', 'tcp', 1010, D, 100);
  port('j', 'tcp', 1011, D, 50);
  out.push({ day: D, proto: 'icmp', sigId: 2001, signature: 'ICMP thing', alerts: 10, sources: 10, tag: 'm' });
  out.push({ day: D, proto: 'icmp', signature: 'Odd probe', alerts: 12, sources: 11, tag: 'n' });
  port('o', 'tcp', 1012, '2026-01-28', 10, 10);
  port('p', 'tcp', 1013, '2026-01-29', 10, 10);
  return out;
}

let dir: string;
let engine: LakeEngine;

async function judge(days: string[]): Promise<JudgedRow[]> {
  return engine.rows<JudgedRow>(judgeQuery(days));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-warn-'));
  engine = await LakeEngine.open({ scratchDir: dir });
  await engine.run(`CREATE TABLE facts (${FACT_COLUMNS.map((c) => `${c.name} ${c.duckdb}`).join(', ')})`);
  const q = (v: string | undefined) => (v === undefined ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
  const values: string[] = [];
  for (const r of fixture()) {
    for (let i = 0; i < r.alerts; i++) {
      const src = `${r.tag}-${r.day}-${i % r.sources}`;
      values.push(
        `(${q(r.day)}, TIMESTAMP '${r.day} 12:00:00', 's1', ${q(src)}, '192.0.0.0/8', 40000, 'dst', ${r.port ?? 'NULL'}, ${q(r.proto)}, ${r.sigId ?? 'NULL'}, ${q(r.signature)}, NULL, 2, false, 's1/b')`,
      );
    }
  }
  for (let i = 0; i < values.length; i += 2000) await engine.run(`INSERT INTO facts VALUES ${values.slice(i, i + 2000).join(', ')}`);
});

afterAll(async () => {
  engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the rules of DESIGN §15', () => {
  it('takes the mean of the 14th and 15th of 28 values', () => {
    expect(medianPositions(28)).toEqual([14, 15]);
  });

  it('gives exactly the warnings worked out by hand for 2026-03-01', async () => {
    const rows = await judge([D]);
    const got = Object.fromEntries(rows.map((r) => [r.subject, r]));
    expect(Object.keys(got).sort()).toEqual(
      ['msg:Odd probe', 'sid:2001', 'tcp/1001', 'tcp/1004', 'tcp/1006', 'tcp/1007', 'tcp/1010', 'tcp/1011', 'tcp/1014'].sort(),
    );
    const expected: Record<string, [string, number, number, number, number, number]> = {
      // kind, alerts, sources, median alerts, median sources, active days
      'tcp/1001': ['surge', 60, 1, 20, 1, 28],
      'tcp/1004': ['surge', 50, 1, 10, 1, 28],
      'tcp/1006': ['surge', 10, 10, 1, 1, 28],
      'tcp/1014': ['surge', 60, 12, 1, 1, 28],
      'tcp/1007': ['new', 10, 10, 0, 0, 0],
      'tcp/1010': ['surge', 100, 1, 0.5, 0.5, 14],
      'tcp/1011': ['surge', 50, 1, 12.5, 1, 20],
      'sid:2001': ['new', 10, 10, 0, 0, 0],
      'msg:Odd probe': ['new', 12, 11, 0, 0, 0],
    };
    for (const [subject, [kind, alerts, sources, ma, ms, active]] of Object.entries(expected)) {
      const r = got[subject]!;
      expect({ subject, kind: r.kind, alerts: r.alerts, sources: r.sources, ma: r.median_alerts, ms: r.median_sources, active: r.active_days }).toEqual({
        subject,
        kind,
        alerts,
        sources,
        ma,
        ms,
        active,
      });
      expect(r.day).toBe(D);
    }
  });

  it('judges no day before deployment + 28 days, and the first one after it', async () => {
    expect(judgeableDays(['2026-01-27', '2026-01-28', '2026-01-29'], '2026-01-01')).toEqual(['2026-01-29']);
    expect(judgeableDays(['2026-03-01'], undefined)).toEqual([]);
    const rows = await judge(judgeableDays(['2026-01-28', '2026-01-29'], '2026-01-01'));
    expect(rows.map((r) => [r.day, r.kind, r.subject])).toEqual([['2026-01-29', 'new', 'tcp/1013']]);
  });

  it('gives the same answer from the stored per-day figures as from the facts', async () => {
    const all = daysBetween('2026-01-01', D);
    await engine.run(`CREATE TABLE subject_figures AS ${subjectDaysQuery(all)}`);
    try {
      const days = ['2026-01-29', '2026-02-15', D];
      const fromFigures = await engine.rows<JudgedRow>(judgeFiguresQuery(days));
      expect(fromFigures).toEqual(await judge(days));
      expect(fromFigures.length).toBe(10);
    } finally {
      await engine.run('DROP TABLE subject_figures');
    }
  });

  it('a changed day re-judges itself and the 28 days after it, up to the last closed day', () => {
    expect(daysToJudge(['2026-02-27'], '2026-03-01')).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
    const all = daysToJudge(['2026-01-01'], '2026-12-31');
    expect(all.length).toBe(29);
    expect(all.at(-1)).toBe('2026-01-29');
  });
});

describe('warning ids and merging', () => {
  it('the same day, kind and subject give the same id; any change another', () => {
    const id = warningId(D, 'surge', 'tcp/445');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(warningId(D, 'surge', 'tcp/445')).toBe(id);
    expect(new Set([id, warningId(D, 'new', 'tcp/445'), warningId('2026-03-02', 'surge', 'tcp/445'), warningId(D, 'surge', 'udp/445')]).size).toBe(4);
  });

  it('a re-run adds nothing; a late batch updates the figures and keeps the id and first time', async () => {
    const rows = await judge([D]);
    const first = mergeJudged([], rows.map((r) => fromJudgedRow(r, '2026-03-02T00:30:00.000Z')), new Set([D]));
    expect(first.added.length).toBe(rows.length);
    const again = mergeJudged(first.warnings, rows.map((r) => fromJudgedRow(r, '2026-03-02T01:30:00.000Z')), new Set([D]));
    expect(again.added).toEqual([]);
    expect(again.updated).toEqual([]);
    expect(again.warnings).toEqual(first.warnings);
    // A late batch: tcp/1001 has 70 alerts, and tcp/1004's warning no longer holds.
    const late = rows
      .filter((r) => r.subject !== 'tcp/1004')
      .map((r) => (r.subject === 'tcp/1001' ? { ...r, alerts: 70 } : r))
      .map((r) => fromJudgedRow(r, '2026-03-02T02:30:00.000Z'));
    const merged = mergeJudged(again.warnings, late, new Set([D]));
    expect(merged.added).toEqual([]);
    expect(merged.dropped.map((w) => w.subject)).toEqual(['tcp/1004']);
    expect(merged.updated.map((w) => [w.subject, w.figures.alerts, w.raisedAt, w.updatedAt])).toEqual([
      ['tcp/1001', 70, '2026-03-02T00:30:00.000Z', '2026-03-02T02:30:00.000Z'],
    ]);
    expect(merged.warnings.length).toBe(rows.length - 1);
  });
});
