/**
 * The SNS messages of warnings (lib/warnings/notify.ts): what a subscriber receives, per protocol, and the signed
 * query-API request that carries it (captured by a fake fetch; no network).
 */
import { describe, expect, it } from 'vitest';
import { warningId, type Warning } from '../../lib/warnings/model.js';
import { notificationsFor, publishForm, snsQueryPublisher, snsSubject, warningMessage } from '../../lib/warnings/notify.js';

const TOPIC = 'arn:aws:sns:eu-central-1:123456789012:alertgraph-Warnings-Topic';
const ALARMS = 'arn:aws:sns:eu-central-1:123456789012:alertgraph-Alarms-Topic';

const surge: Warning = {
  id: warningId('2026-03-01', 'surge', 'tcp/445'),
  day: '2026-03-01',
  kind: 'surge',
  subject: 'tcp/445',
  figures: { alerts: 600, sources: 40 },
  baseline: { alerts: 20, sources: 4.5 },
  activeDays: 28,
  raisedAt: '2026-03-02T00:31:00.000Z',
  updatedAt: '2026-03-02T00:31:00.000Z',
};
const silent: Warning = {
  id: warningId('2026-03-02', 'silent', 'sensor:s1'),
  day: '2026-03-02',
  kind: 'silent',
  subject: 'sensor:s1',
  figures: { alerts: 0, sources: 0 },
  baseline: { alerts: 0, sources: 0 },
  raisedAt: '2026-03-02T03:00:00.000Z',
  updatedAt: '2026-03-02T03:00:00.000Z',
  lastSeenAt: '2026-03-02T00:50:00.000Z',
};

describe('warning messages', () => {
  it('carry the subject and the figures: JSON by default, a sentence by email, kind and subject as attributes', () => {
    const m = warningMessage(surge, TOPIC);
    expect(m.topicArn).toBe(TOPIC);
    expect(m.subject).toBe('alertgraph: Surge on tcp/445 (microsoft-ds), 2026-03-01');
    const body = JSON.parse(m.message.default);
    expect(body).toMatchObject({
      type: 'alertgraph.warning',
      id: surge.id,
      day: '2026-03-01',
      kind: 'surge',
      subject: 'tcp/445',
      figures: { alerts: 600, sources: 40 },
      baseline: { alerts: 20, sources: 4.5 },
      activeDays: 28,
    });
    expect(m.message.email).toContain('600 alerts from 40 sources on 2026-03-01, against a median of 20 alerts and 4.5 sources a day over the 28 days before');
    expect(m.attributes).toEqual({ kind: 'surge', subject: 'tcp/445' });
  });

  it('send surge and new to the warnings topic, silent sensors (raised and cleared) to the alarm topic only', () => {
    const cleared = { ...silent, clearedAt: '2026-03-02T05:00:00.000Z' };
    const out = notificationsFor({ raised: [surge, silent], cleared: [cleared] }, { warnings: TOPIC, alarms: ALARMS });
    expect(out.map((m) => [m.topicArn, m.attributes.kind])).toEqual([
      [TOPIC, 'surge'],
      [ALARMS, 'silent'],
      [ALARMS, 'silent'],
    ]);
    expect(out[2]!.subject).toBe('alertgraph: Sensor s1 reports again');
    expect(notificationsFor({ raised: [surge, silent], cleared: [] }, {})).toEqual([]);
  });

  it('keep subjects within what SNS takes: ASCII, one line, at most 100 characters', () => {
    const s = snsSubject(`alertgraph: New activity on msg:${'é'.repeat(200)}\n`);
    expect(s.length).toBe(100);
    expect(/^[\x20-\x7e]+$/.test(s)).toBe(true);
  });

  it('are published as one signed Publish of the query API in the topic region', async () => {
    const seen: { url: string; headers: Record<string, string>; body: string }[] = [];
    const fakeFetch = (async (url: string, init: RequestInit) => {
      seen.push({ url, headers: init.headers as Record<string, string>, body: String(init.body) });
      return new Response('<PublishResponse/>', { status: 200 });
    }) as unknown as typeof fetch;
    const publish = snsQueryPublisher(async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }), fakeFetch);
    const m = warningMessage(surge, TOPIC);
    await publish(m);
    expect(seen.length).toBe(1);
    expect(seen[0]!.url).toBe('https://sns.eu-central-1.amazonaws.com/');
    const auth = seen[0]!.headers.authorization ?? seen[0]!.headers.Authorization;
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/sns\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/);
    const form = new URLSearchParams(seen[0]!.body);
    expect(form.get('Action')).toBe('Publish');
    expect(form.get('TopicArn')).toBe(TOPIC);
    expect(form.get('MessageStructure')).toBe('json');
    expect(JSON.parse(form.get('Message')!)).toEqual(m.message);
    expect(form.get('MessageAttributes.entry.1.Name')).toBe('kind');
    expect(form.get('MessageAttributes.entry.1.Value.StringValue')).toBe('surge');
    expect(publishForm(m).toString()).toBe(seen[0]!.body);

    const failing = snsQueryPublisher(async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }), (async () => new Response('denied', { status: 403 })) as unknown as typeof fetch);
    await expect(failing(m)).rejects.toThrow(/HTTP 403/);
  });
});
