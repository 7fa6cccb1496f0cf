/**
 * What runs the render function: EventBridge Scheduler, once a day to close the previous day and every other
 * hour for today so far, with retries and one dead-letter queue (and its alarm) for every run that did not happen.
 *
 * A part of Publishing, not a construct of its own: it adds its resources to the Publishing scope under the ids
 * they have always had. A construct level of its own would change the resources' construct paths, and with them
 * their logical ids and the names the CDK derives from the path (the revocation store's and the gate's names, the
 * public key's caller reference), which CloudFormation can only change by replacing the resource: a new, empty
 * revocation store, a new distribution origin. test/cdk/logical-ids.test.ts pins the ids.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import type { AlarmFactory } from './alarms.js';

/** The scheduler's cron for the daily run, and the hourly one that leaves out the daily run's hour. */
export function renderSchedules(dailyRenderAt: string): { daily: { hour: string; minute: string }; hourly: { hour: string; minute: string } } {
  const [hour, minute] = dailyRenderAt.split(':').map(Number) as [number, number];
  const otherHours = Array.from({ length: 24 }, (_, h) => h).filter((h) => h !== hour);
  return {
    daily: { hour: String(hour), minute: String(minute) },
    // Same minute, every other hour: the two schedules never start the job twice at once.
    hourly: { hour: otherHours.join(','), minute: String(minute) },
  };
}

export interface RenderSchedulesProps {
  /** The render function. */
  target: lambda.Function;
  /** UTC HH:MM of the daily run. */
  dailyRenderAt: string;
  alarms: AlarmFactory;
}

export class RenderSchedules {
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, props: RenderSchedulesProps) {
    const fn = props.target;

    this.deadLetterQueue = new sqs.Queue(scope, 'RenderDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    // The scheduler invokes the function asynchronously: its retry policy and dead-letter queue cover delivery
    // (throttling, permissions), while a run that fails is Lambda's to retry. Both end in the same queue, so
    // one alarm covers every render that did not happen.
    fn.configureAsyncInvoke({
      // One more try a minute or two later; after that the next scheduled run (within the hour) catches up.
      retryAttempts: 1,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    const schedules = renderSchedules(props.dailyRenderAt);
    // One role for both schedules, declared here so it has a stable place in the tree (and its suppression).
    const schedulerRole = new iam.Role(scope, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
      }),
      description: 'alertgraph: EventBridge Scheduler invokes the render function',
    });
    const invoke = (name: string) =>
      new targets.LambdaInvoke(fn, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ schedule: name }),
        // Undelivered invocations are retried, then parked in the dead-letter queue for the operator.
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.deadLetterQueue,
      });
    new scheduler.Schedule(scope, 'DailyRender', {
      description: `alertgraph: close yesterday and render, daily at ${props.dailyRenderAt} UTC`,
      schedule: scheduler.ScheduleExpression.cron(schedules.daily),
      target: invoke('daily'),
    });
    new scheduler.Schedule(scope, 'HourlyRender', {
      description: 'alertgraph: render today so far, every hour except the daily run\'s',
      schedule: scheduler.ScheduleExpression.cron(schedules.hourly),
      target: invoke('hourly'),
    });

    props.alarms.onAny(
      scope,
      'RenderDeadLettersVisible',
      (o) => this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(o),
      'A scheduled render gave up after its retries; the event is in the dead-letter queue.',
      cloudwatch.Stats.MAXIMUM,
    );

    NagSuppressions.addResourceSuppressions(
      schedulerRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'lambda:InvokeFunction on the render function and its versions (`<arn>:*`), as the CDK grant writes it; no other function.',
          appliesTo: [{ regex: '/^Resource::<.*Renderer.*\\.Arn>:\\*$/g' }],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(this.deadLetterQueue, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the render schedules.' },
    ]);
  }
}
