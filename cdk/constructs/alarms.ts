/**
 * Alarms that notify one SNS topic. Each construct creates the alarms of its own concern through this factory,
 * so every alarm gets the same action and the same handling of missing data.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export interface AlarmSpec {
  metric: cloudwatch.IMetric;
  threshold: number;
  evaluationPeriods: number;
  description: string;
}

/** The period every alarm of the stack looks at. */
export const ALARM_PERIOD = Duration.minutes(5);

export class AlarmFactory extends Construct {
  readonly topic: sns.Topic;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: { email?: string } = {}) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'alertgraph alarms', enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
    NagSuppressions.addResourceSuppressions(this.topic, [
      {
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry alarm names and states only; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key costs more than the data is worth protecting.',
      },
    ]);
  }

  /** An alarm when the metric reaches the threshold; no data (no traffic, no runs) is not a problem. */
  create(scope: Construct, id: string, spec: AlarmSpec): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(scope, id, {
      metric: spec.metric,
      threshold: spec.threshold,
      evaluationPeriods: spec.evaluationPeriods,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    return alarm;
  }

  /**
   * An alarm as soon as a count reaches one in a period: a failed run, a throttled invocation, a dead letter.
   * `metricOf` is the metric method of the resource (`fn.metricErrors`), given the period and statistic.
   */
  onAny(
    scope: Construct,
    id: string,
    metricOf: (options: cloudwatch.MetricOptions) => cloudwatch.IMetric,
    description: string,
    statistic: string = cloudwatch.Stats.SUM,
  ): cloudwatch.Alarm {
    return this.create(scope, id, { metric: metricOf({ period: ALARM_PERIOD, statistic }), threshold: 1, evaluationPeriods: 1, description });
  }
}
