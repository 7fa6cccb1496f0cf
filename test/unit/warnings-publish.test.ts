/**
 * What partners get of the warnings (lib/warnings/publish.ts), on hand-made warnings: the 90-day window and the
 * kinds; the Atom feed parsed by a real XML parser (fast-xml-parser, installed with s3rver), with text that
 * needs escaping and with no entry at all; the IDEA records' mandatory fields.
 */
import { parse as parseXml, validate as validateXml } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { warningId, type Warning } from '../../lib/warnings/model.js';
import { FEED_ID, ideaRecord, partnerWarnings, warningsAtom, warningsJson } from '../../lib/warnings/publish.js';

function warning(day: string, kind: Warning['kind'], subject: string, extra: Partial<Warning> = {}): Warning {
  return {
    id: warningId(day, kind, subject),
    day,
    kind,
    subject,
    figures: { alerts: 120, sources: 12 },
    baseline: { alerts: 10.5, sources: 2 },
    activeDays: 20,
    raisedAt: `${day}T23:59:00.000Z`,
    updatedAt: `${day}T23:59:00.000Z`,
    ...extra,
  };
}

const THROUGH = '2026-06-30';
// 90 days up to 06-30 inclusive start on 04-02.
const all = [
  warning('2026-06-30', 'surge', 'tcp/445'),
  warning('2026-06-29', 'silent', 'sensor:s1', { figures: { alerts: 0, sources: 0 }, baseline: { alerts: 0, sources: 0 } }),
  warning('2026-04-02', 'new', 'msg:<script>&"odd"'),
  warning('2026-04-01', 'surge', 'udp/53'),
];

describe('partner warnings', () => {
  it('are surge and new of the 90 days up to the last closed day, newest first', () => {
    expect(partnerWarnings(all, THROUGH).map((w) => [w.day, w.kind])).toEqual([
      ['2026-06-30', 'surge'],
      ['2026-04-02', 'new'],
    ]);
    const json = warningsJson(partnerWarnings(all, THROUGH), { generatedAt: '2026-07-01T00:31:00Z', through: THROUGH });
    expect([json.from, json.to]).toEqual(['2026-04-02', THROUGH]);
    expect(json.warnings[0]).toEqual({
      id: all[0]!.id,
      day: '2026-06-30',
      kind: 'surge',
      subject: 'tcp/445',
      figures: { alerts: 120, sources: 12 },
      baseline: { alerts: 10.5, sources: 2 },
      activeDays: 20,
      raisedAt: '2026-06-30T23:59:00.000Z',
      updatedAt: '2026-06-30T23:59:00.000Z',
    });
  });

  it('make a well-formed Atom 1.0 feed, text escaped, one entry per warning', () => {
    const list = partnerWarnings(all, THROUGH);
    const xml = warningsAtom(list, { generatedAt: '2026-07-01T00:31:00Z' });
    expect(validateXml(xml)).toBe(true);
    // fast-xml-parser 3 leaves entities as written; decode the five XML ones (&amp; last).
    const decode = (v: string) => v.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    const feed = parseXml(xml, { ignoreAttributes: false, attributeNamePrefix: '@', textNodeName: '#text', tagValueProcessor: decode, attrValueProcessor: decode }).feed;
    expect(feed['@xmlns']).toBe('http://www.w3.org/2005/Atom');
    expect(feed.id).toBe(FEED_ID);
    expect(feed.updated).toBe('2026-06-30T23:59:00.000Z');
    expect(feed.author.name).toBe('alertgraph');
    const self = [feed.link].flat().find((l: Record<string, string>) => l['@rel'] === 'self');
    expect(self['@href']).toBe('warnings.atom');
    const entries = [feed.entry].flat();
    expect(entries.map((e: Record<string, unknown>) => e.id)).toEqual(list.map((w) => `urn:uuid:${w.id}`));
    const odd = entries[1];
    expect(odd.title).toBe('New activity on msg:<script>&"odd", 2026-04-02');
    expect(odd.content['#text']).toContain('msg:<script>&"odd": 12 sources (120 alerts) on 2026-04-02');
    expect(odd.category['@term']).toBe('new');
  });

  it('make a valid feed with no entry when there is no warning', () => {
    const xml = warningsAtom([], { generatedAt: '2026-07-01T00:31:00Z' });
    expect(validateXml(xml)).toBe(true);
    const feed = parseXml(xml, { ignoreAttributes: false, attributeNamePrefix: '@' }).feed;
    expect(feed.updated).toBe('2026-07-01T00:31:00Z');
    expect(feed.entry).toBeUndefined();
  });

  it('make IDEA records with the mandatory fields, the port as the target', () => {
    const r = ideaRecord(all[0]!, { nodeName: 'org.example.alertgraph' });
    expect(r).toEqual({
      Format: 'IDEA0',
      ID: all[0]!.id,
      CreateTime: '2026-06-30T23:59:00.000Z',
      DetectTime: '2026-06-30T23:59:00.000Z',
      WinStartTime: '2026-06-30T00:00:00Z',
      WinEndTime: '2026-07-01T00:00:00Z',
      Category: ['Anomaly.Traffic'],
      Description: 'Surge on tcp/445 (microsoft-ds), 2026-06-30',
      Note: 'tcp/445 (microsoft-ds): 120 alerts from 12 sources on 2026-06-30, against a median of 10.5 alerts and 2 sources a day over the 28 days before (active on 20 of them).',
      ConnCount: 120,
      Target: [{ Proto: ['tcp'], Port: [445] }],
      Node: [{ Name: 'org.example.alertgraph', Type: ['Statistical'], SW: ['alertgraph'] }],
    });
    expect(ideaRecord(all[2]!).Target).toBeUndefined();
  });
});
