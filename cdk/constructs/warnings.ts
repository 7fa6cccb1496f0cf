/**
 * Early warnings on AWS (DESIGN §15): an SNS topic the render job publishes surge and new warnings to (with the
 * subject and figures in the message), and the right for that job to send silent-sensor warnings to the
 * operators' alarm topic. Operators and partners subscribe an email address or a webhook to the topic; the
 * message attributes `kind` and `subject` allow filter policies (e.g. only `surge`).
 *
 * The render function is passed in and given its topics' ARNs and the publish grants from here, so the
 * publishing construct that creates it needs no change.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Output key of the warnings topic's ARN (`aws sns subscribe --topic-arn …`). */
export const WARNINGS_TOPIC_OUTPUT = 'WarningsTopicArn';

export interface WarningsProps {
  /** The render function, which judges and sends the warnings. */
  renderFunction: lambda.Function;
  /** The operators' alarm topic (cdk/constructs/alarms.ts): silent sensors go there. */
  alarmTopic: sns.ITopic;
  /** Subscribes this address to the warnings at deployment (it must confirm). */
  email?: string;
}

export class Warnings extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: WarningsProps) {
    super(scope, id);
    // Encrypted at rest with SNS's AWS managed key: only the render function publishes (CloudWatch, which cannot
    // use that key, never does), and the key policy lets principals of the account use it through SNS.
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'alertgraph warnings',
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const fn = props.renderFunction;
    // sns:Publish on the two topics only. Not topic.grantPublish: with a KMS key it also grants kms:* on every
    // key of the account (key/*), which the AWS managed SNS key does not need — its key policy already lets any
    // principal of the account use it through SNS.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn, props.alarmTopic.topicArn] }));
    fn.addEnvironment('WARNINGS_TOPIC_ARN', this.topic.topicArn);
    fn.addEnvironment('ALARM_TOPIC_ARN', props.alarmTopic.topicArn);
    // On the stack itself, so the output key is exactly the name.
    new CfnOutput(Stack.of(this), WARNINGS_TOPIC_OUTPUT, { value: this.topic.topicArn, description: 'SNS topic of the early warnings (surge, new)' });
  }
}
