/**
 * The warnings topic in the stack's template (cdk/constructs/warnings.ts): the topic, encrypted and TLS-only;
 * the render function's right to publish to it and to the alarm topic, and nothing more; the ARNs in its
 * environment, where lib/config.ts reads them; the output operators subscribe with.
 */
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { WARNINGS_TOPIC_OUTPUT } from '../../cdk/constructs/warnings.js';
import { actionsOf, flatten, functionId, resourcesOf, roleStatements } from './policies.js';
import { synthesize, type Synthesized } from './synth.js';

let synth: Synthesized;
let template: Template;
let warningsTopic: string;
let alarmTopic: string;
let renderId: string;

beforeAll(() => {
  synth = synthesize({ bundle: false });
  template = synth.template;
  const topics = template.findResources('AWS::SNS::Topic');
  warningsTopic = Object.keys(topics).find((id) => topics[id]!.Properties?.DisplayName === 'alertgraph warnings')!;
  alarmTopic = Object.keys(topics).find((id) => topics[id]!.Properties?.DisplayName === 'alertgraph alarms')!;
  renderId = functionId(template, 'PublishingRenderer');
}, 60_000);

describe('warnings topic', () => {
  it('exists beside the alarm topic, encrypted with the SNS key, refusing publishes without TLS', () => {
    expect(warningsTopic).toBeDefined();
    expect(alarmTopic).toBeDefined();
    expect(warningsTopic).not.toBe(alarmTopic);
    const props = template.findResources('AWS::SNS::Topic')[warningsTopic]!.Properties!;
    expect(flatten(props.KmsMasterKeyId)).toContain('alias/aws/sns');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: warningsTopic }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  it('the render function may publish to the warnings and the alarm topic, and to no other', () => {
    const publishes = roleStatements(template, renderId).filter((s) => s.Effect === 'Allow' && actionsOf(s).some((a) => a.startsWith('sns:')));
    expect([...new Set(publishes.flatMap(actionsOf))]).toEqual(['sns:Publish']);
    expect(publishes.flatMap(resourcesOf).sort()).toEqual([`<${alarmTopic}>`, `<${warningsTopic}>`].sort());
  });

  it('gives the render function both ARNs in its environment', () => {
    const env = template.findResources('AWS::Lambda::Function')[renderId]!.Properties!.Environment as { Variables: Record<string, unknown> };
    expect(env.Variables.WARNINGS_TOPIC_ARN).toEqual({ Ref: warningsTopic });
    expect(env.Variables.ALARM_TOPIC_ARN).toEqual({ Ref: alarmTopic });
  });

  it('outputs the topic ARN for subscribing', () => {
    template.hasOutput(WARNINGS_TOPIC_OUTPUT, { Value: { Ref: warningsTopic } });
  });

  it('raises no cdk-nag finding of its own', () => {
    const found = [
      ...Annotations.fromStack(synth.stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...Annotations.fromStack(synth.stack).findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].filter((e) => e.id.includes('Warnings'));
    expect(found.map((e) => `${e.id}: ${String(e.entry.data).split('\n')[0]}`)).toEqual([]);
  });
});
