/**
 * Delivery of warnings on AWS (DESIGN §15): surge and new to the warnings topic, silent sensors (raised and
 * cleared) to the operators' alarm topic. One SNS message per warning, with a message per protocol: the JSON
 * warning for webhooks, queues and functions (`default`), a sentence with the figures for email; the kind and
 * subject also as message attributes, so a subscription can filter on them.
 *
 * The render bundle carries no SNS client: a Publish is one signed POST of SNS's query API
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html), signed with Signature V4 by @smithy/signature-v4
 * (installed with the AWS SDK) using the credentials the function's S3 client already resolves.
 */
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { WarningNotifier } from './judge.js';
import { warningFields, type Warning } from './model.js';
import { warningText, warningTitle } from './publish.js';

export interface SnsMessage {
  topicArn: string;
  subject: string;
  /** MessageStructure "json": one message per protocol, `default` for the others. */
  message: { default: string; email: string };
  attributes: Record<string, string>;
}

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

/** The SNS message of one warning (`cleared`: a silent sensor that reported again). */
export function warningMessage(w: Warning, topicArn: string, opts: { baselineDays?: number } = {}): SnsMessage {
  const cleared = w.kind === 'silent' && w.clearedAt !== undefined;
  const title = cleared ? `Sensor ${w.subject.replace(/^sensor:/, '')} reports again` : warningTitle(w);
  const text = warningText(w, opts.baselineDays);
  const body = {
    type: 'alertgraph.warning',
    ...warningFields(w),
    ...(w.lastSeenAt ? { lastSeenAt: w.lastSeenAt } : {}),
    ...(w.clearedAt ? { clearedAt: w.clearedAt } : {}),
    raisedAt: w.raisedAt,
    text,
  };
  return {
    topicArn,
    subject: snsSubject(`alertgraph: ${title}`),
    message: { default: JSON.stringify(body), email: `${title}\n\n${text}\n\nWarning id: ${w.id}\n` },
    attributes: { kind: w.kind, subject: w.subject },
  };
}

/**
 * Which messages a judgement sends: new surge and new warnings to the warnings topic, raised and cleared
 * silent sensors to the alarm topic. A warning whose figures a late batch changed is not sent again.
 */
export function notificationsFor(
  change: { raised: readonly Warning[]; cleared: readonly Warning[] },
  topics: { warnings?: string; alarms?: string },
  opts: { baselineDays?: number } = {},
): SnsMessage[] {
  const out: SnsMessage[] = [];
  for (const w of change.raised) {
    const topic = w.kind === 'silent' ? topics.alarms : topics.warnings;
    if (topic) out.push(warningMessage(w, topic, opts));
  }
  if (topics.alarms) for (const w of change.cleared) out.push(warningMessage(w, topics.alarms, opts));
  return out;
}

export type SnsPublish = (message: SnsMessage) => Promise<void>;

export class SnsNotifier implements WarningNotifier {
  constructor(
    private readonly topics: { warnings?: string; alarms?: string },
    private readonly publish: SnsPublish,
    private readonly opts: { baselineDays?: number } = {},
  ) {}

  async notify(change: { raised: readonly Warning[]; updated: readonly Warning[]; cleared: readonly Warning[] }): Promise<void> {
    for (const m of notificationsFor(change, this.topics, this.opts)) await this.publish(m);
  }
}

/** The query API's form body of a Publish. */
export function publishForm(m: SnsMessage): URLSearchParams {
  const form = new URLSearchParams({
    Action: 'Publish',
    Version: '2010-03-31',
    TopicArn: m.topicArn,
    Subject: m.subject,
    MessageStructure: 'json',
    Message: JSON.stringify(m.message),
  });
  Object.entries(m.attributes).forEach(([name, value], i) => {
    form.set(`MessageAttributes.entry.${i + 1}.Name`, name);
    form.set(`MessageAttributes.entry.${i + 1}.Value.DataType`, 'String');
    form.set(`MessageAttributes.entry.${i + 1}.Value.StringValue`, value);
  });
  return form;
}

/** SHA-256 (or HMAC-SHA256 with a secret) in the shape SignatureV4 asks for. */
type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

class NodeSha256 {
  private readonly hash;
  constructor(secret?: Source) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: Source): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Publishes through SNS's query API in the topic's own region (from its ARN). */
export function snsQueryPublisher(credentials: () => Promise<AwsCredentials>, fetchImpl: typeof fetch = fetch): SnsPublish {
  return async (m) => {
    const region = m.topicArn.split(':')[3];
    if (!region) throw new Error(`not an SNS topic ARN: ${m.topicArn}`);
    const host = `sns.${region}.amazonaws.com`;
    const body = publishForm(m).toString();
    const signer = new SignatureV4({ service: 'sns', region, credentials, sha256: NodeSha256 });
    const signed = await signer.sign({
      method: 'POST',
      protocol: 'https:',
      hostname: host,
      path: '/',
      headers: { host, 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body,
    });
    const res = await fetchImpl(`https://${host}/`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
    if (!res.ok) throw new Error(`SNS Publish to ${m.topicArn} failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  };
}
