/**
 * What partners get of the warnings (DESIGN §15): `surge` and `new` of the last 90 days, as JSON, as an Atom
 * 1.0 feed (RFC 4287) and as IDEA records (the JSON format of CESNET's Warden). Pure: warnings in, objects out.
 * Silent sensors are for operators only and never appear here.
 *
 * IDEA records are written from our reading of the published IDEA definition (idea.cesnet.cz): the mandatory
 * `Format` ("IDEA0"), `ID`, `DetectTime` and `Category`; the day judged as the window `WinStartTime` …
 * `WinEndTime`; a port subject as the `Target` with `Port` and `Proto` (the destination port the alerts were
 * sent to; no address is ever published, so `Source` is left out); `Node` naming this service, of type
 * `Statistical` (the warning is drawn from statistics, not from one observed packet).
 */
import { CACHE, PARTNER_WARNINGS_KEYS } from '../publish/layout.js';
import type { PublishedObject } from '../publish/publish.js';
import { serviceName } from '../ports/index.js';
import { addDays } from '../util/days.js';
import { newestFirst, uuidV5, warningFields, WARNING_NAMESPACE, type Warning } from './model.js';

/** Days of warnings published to partners, counted back from the last closed day (inclusive). */
export const PARTNER_WARNING_DAYS = 90;

/** The IDEA Node name: reverse domain notation, as IDEA names detectors. */
export const DEFAULT_IDEA_NODE = 'org.alertgraph.warnings';

/** The partners' warnings: surge and new only, of the 90 days up to `through`, newest first. */
export function partnerWarnings(all: readonly Warning[], through: string): Warning[] {
  const from = addDays(through, -(PARTNER_WARNING_DAYS - 1));
  return all.filter((w) => (w.kind === 'surge' || w.kind === 'new') && w.day >= from && w.day <= through).sort(newestFirst);
}

/** `tcp/445 (microsoft-ds)`, `sid:2001 (ET SCAN …)`, `sensor:s1`. */
export function subjectLabel(w: Pick<Warning, 'subject' | 'name'>): string {
  const service = /^(tcp|udp)\/\d+$/.test(w.subject) ? serviceName(w.subject) : undefined;
  if (service) return `${w.subject} (${service})`;
  if (w.name && w.subject.startsWith('sid:')) return `${w.subject} (${w.name})`;
  return w.subject;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
const median = (x: number) => (Number.isInteger(x) ? x.toLocaleString('en-US') : x.toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }));

export function warningTitle(w: Warning): string {
  switch (w.kind) {
    case 'surge':
      return `Surge on ${subjectLabel(w)}, ${w.day}`;
    case 'new':
      return `New activity on ${subjectLabel(w)}, ${w.day}`;
    case 'silent':
      return `Sensor ${w.subject.replace(/^sensor:/, '')} is silent`;
  }
}

/** One sentence with the figures and the baseline. */
export function warningText(w: Warning, baselineDays = 28): string {
  switch (w.kind) {
    case 'surge':
      return (
        `${subjectLabel(w)}: ${plural(w.figures.alerts, 'alert')} from ${plural(w.figures.sources, 'source')} on ${w.day}, ` +
        `against a median of ${median(w.baseline.alerts)} alerts and ${median(w.baseline.sources)} sources a day over the ${baselineDays} days before` +
        `${w.activeDays !== undefined ? ` (active on ${w.activeDays} of them)` : ''}.`
      );
    case 'new':
      return `${subjectLabel(w)}: ${plural(w.figures.sources, 'source')} (${plural(w.figures.alerts, 'alert')}) on ${w.day}, and no alert in the ${baselineDays} days before.`;
    case 'silent':
      return `${w.subject}: no batch, not even a heartbeat, since ${w.lastSeenAt ?? 'it was registered'}${w.clearedAt ? `; reported again at ${w.clearedAt}` : ''}.`;
  }
}

/** The partner JSON: `{generatedAt, from, to, warnings: […]}`, each warning as stored minus operator fields. */
export function warningsJson(list: readonly Warning[], input: { generatedAt: string; through: string }) {
  return {
    generatedAt: input.generatedAt,
    from: addDays(input.through, -(PARTNER_WARNING_DAYS - 1)),
    to: input.through,
    warnings: list.map((w) => ({
      ...warningFields(w),
      raisedAt: w.raisedAt,
      updatedAt: w.updatedAt,
    })),
  };
}

function xml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** The feed's own id: fixed, so a reader knows it across renders. */
export const FEED_ID = `urn:uuid:${uuidV5(WARNING_NAMESPACE, 'alertgraph partner warnings feed')}`;

/**
 * An Atom 1.0 feed of the partners' warnings. Links are relative to the feed's own address (RFC 4287 §2 allows
 * IRI references resolved against it), so the feed works under any CDN domain and behind a signed link.
 */
export function warningsAtom(list: readonly Warning[], input: { generatedAt: string; baselineDays?: number }): string {
  const updated = list.map((w) => w.updatedAt).sort().at(-1) ?? input.generatedAt;
  const entries = list.map(
    (w) => `  <entry>
    <id>urn:uuid:${w.id}</id>
    <title>${xml(warningTitle(w))}</title>
    <updated>${xml(w.updatedAt)}</updated>
    <published>${xml(w.raisedAt)}</published>
    <category term="${w.kind}"/>
    <link rel="alternate" type="text/html" href="index.html#warnings"/>
    <content type="text">${xml(warningText(w, input.baselineDays))}</content>
  </entry>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>${FEED_ID}</id>
  <title>alertgraph early warnings</title>
  <subtitle>Surges and new activity per port and signature in the shared IDS alerts (last ${PARTNER_WARNING_DAYS} days)</subtitle>
  <updated>${xml(updated)}</updated>
  <author><name>alertgraph</name></author>
  <link rel="self" type="application/atom+xml" href="warnings.atom"/>
  <link rel="alternate" type="text/html" href="index.html#warnings"/>
  <generator>alertgraph</generator>
${entries.join('\n')}
</feed>
`;
}

/** One IDEA record per warning. */
export function ideaRecord(w: Warning, input: { nodeName?: string; baselineDays?: number } = {}): Record<string, unknown> {
  const port = /^(tcp|udp)\/(\d+)$/.exec(w.subject);
  const record: Record<string, unknown> = {
    Format: 'IDEA0',
    ID: w.id,
    CreateTime: w.updatedAt,
    DetectTime: w.raisedAt,
    WinStartTime: `${w.day}T00:00:00Z`,
    WinEndTime: `${addDays(w.day, 1)}T00:00:00Z`,
    Category: ['Anomaly.Traffic'],
    Description: warningTitle(w),
    Note: warningText(w, input.baselineDays),
    ConnCount: w.figures.alerts,
  };
  if (port) record.Target = [{ Proto: [port[1]], Port: [Number(port[2])] }];
  record.Node = [{ Name: input.nodeName ?? DEFAULT_IDEA_NODE, Type: ['Statistical'], SW: ['alertgraph'] }];
  return record;
}

/** The three partner objects. */
export function partnerWarningObjects(
  all: readonly Warning[],
  input: { generatedAt: string; through: string; nodeName?: string; baselineDays?: number },
): PublishedObject[] {
  const list = partnerWarnings(all, input.through);
  return [
    {
      key: PARTNER_WARNINGS_KEYS.json,
      body: JSON.stringify(warningsJson(list, input)),
      contentType: 'application/json',
      cacheControl: CACHE.private,
    },
    {
      key: PARTNER_WARNINGS_KEYS.atom,
      body: warningsAtom(list, input),
      contentType: 'application/atom+xml; charset=utf-8',
      cacheControl: CACHE.private,
    },
    {
      key: PARTNER_WARNINGS_KEYS.idea,
      body: JSON.stringify(list.map((w) => ideaRecord(w, input))),
      contentType: 'application/json',
      cacheControl: CACHE.private,
    },
  ];
}
