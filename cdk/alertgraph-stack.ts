/**
 * The one stack: Store (table, bucket), Ingest (HTTP API, ingest function), Publishing (render function,
 * schedules, CloudFront, partner gate, revocation store), Lake (Glue table and Athena workgroup over the
 * Parquet facts), and the alarm topic they report to.
 *
 * Its outputs are what `alertgraph … --stack <name>` reads (lib/admin/deployed-stack.ts): the output keys are
 * lib/stack-outputs.ts STACK_OUTPUTS, shared by both, so renaming one here breaks nothing silently.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { LAKE_TABLE_OUTPUT, STACK_OUTPUTS, type StackOutputKey } from '../lib/stack-outputs.js';
import type { DeployConfig } from './config.js';
import { AlarmFactory } from './constructs/alarms.js';
import { Ingest } from './constructs/ingest.js';
import { Lake } from './constructs/lake.js';
import { Publishing } from './constructs/publishing.js';
import { Store } from './constructs/store.js';
import { Warnings } from './constructs/warnings.js';

export interface AlertgraphStackProps extends StackProps {
  config: DeployConfig;
}

export { LAKE_TABLE_OUTPUT };

/** Where the functions' metrics go (Powertools Metrics namespace). */
export const METRICS_NAMESPACE = 'alertgraph';

export class AlertgraphStack extends Stack {
  readonly store: Store;
  readonly ingest: Ingest;
  readonly publishing: Publishing;
  readonly lake: Lake;

  constructor(scope: Construct, id: string, props: AlertgraphStackProps) {
    super(scope, id, {
      description: 'alertgraph: signed IDS alert ingest, daily alert graphs on CloudFront, partner links',
      ...props,
    });
    const { config } = props;

    const alarms = new AlarmFactory(this, 'Alarms', config.alarmEmail !== undefined ? { email: config.alarmEmail } : {});
    this.store = new Store(this, 'Store', {
      rawRetentionDays: config.rawRetentionDays,
      ...(config.rawArchiveAdminRoleArn !== undefined ? { rawArchiveAdminRoleArn: config.rawArchiveAdminRoleArn } : {}),
    });
    this.ingest = new Ingest(this, 'Ingest', { store: this.store, config, alarms, metricsNamespace: METRICS_NAMESPACE });
    this.lake = new Lake(this, 'Lake', { bucket: this.store.bucket, bytesScannedCutoffPerQuery: config.athenaBytesScannedCutoffGb * 1e9 });
    this.publishing = new Publishing(this, 'Publishing', { store: this.store, lake: this.lake, config, alarms, metricsNamespace: METRICS_NAMESPACE });
    new Warnings(this, 'Warnings', { renderFunction: this.publishing.renderer.function, alarmTopic: alarms.topic });

    const outputs: Record<StackOutputKey, { value: string; description: string }> = {
      apiUrl: { value: this.ingest.api.apiEndpoint, description: 'Ingest API base URL (alertgraph push --endpoint)' },
      cdnDomainName: { value: this.publishing.cdn.distribution.distributionDomainName, description: 'CloudFront domain of the graphs' },
      tableName: { value: this.store.table.tableName, description: 'DynamoDB table' },
      bucketName: { value: this.store.bucket.bucketName, description: 'S3 bucket (raw/, public/, partners/, and the lake: staging/, facts/, lake/, athena-results/)' },
      revocationStoreArn: { value: this.publishing.cdn.revocations.keyValueStoreArn, description: 'KeyValueStore of revoked partners' },
      renderFunctionName: { value: this.publishing.renderer.function.functionName, description: 'Render function (alertgraph render --stack)' },
      linkKeyPairId: { value: this.publishing.cdn.linkPublicKey.publicKeyId, description: 'CloudFront public key id that partner links name (Key-Pair-Id)' },
      linkPrivateKeyParameter: { value: config.linkPrivateKeyParameter, description: 'SSM SecureString holding the link private key' },
      pseudonymKeyParameter: { value: config.pseudonymKeyParameter, description: 'SSM SecureString holding the pseudonym key' },
      alarmTopicArn: { value: alarms.topic.topicArn, description: 'SNS topic of the alarms' },
      ingestLogGroup: { value: this.ingest.handler.logGroup.logGroupName, description: 'Log group of the ingest function' },
      renderLogGroup: { value: this.publishing.renderer.logGroup.logGroupName, description: 'Log group of the render function' },
      renderDeadLetterQueueUrl: { value: this.publishing.schedules.deadLetterQueue.queueUrl, description: 'Dead-letter queue of the render schedules' },
      lakeDatabase: { value: this.lake.databaseName, description: 'Glue database of the alert lake (query --stack on Athena)' },
      lakeWorkGroup: { value: this.lake.workGroupName, description: 'Athena workgroup of query --stack (results prefix, bytes-scanned cutoff)' },
      horizonDays: { value: String(config.horizonDays), description: 'Alert horizon in days (the CLI expires rebuilt contributions by it)' },
      dailyRenderAt: { value: config.dailyRenderAt, description: 'UTC time of the daily render that closes the previous day' },
      watchedPorts: { value: config.watchedPorts, description: 'Ports drawn as series on the partner page' },
    };
    for (const [key, { value, description }] of Object.entries(outputs) as [StackOutputKey, { value: string; description: string }][]) {
      // Declared on the stack itself, so the output key is exactly the name (no construct path, no hash).
      new CfnOutput(this, STACK_OUTPUTS[key], { value, description });
    }
    new CfnOutput(this, LAKE_TABLE_OUTPUT, { value: this.lake.tableName, description: 'Glue table of the Parquet facts, partitioned by day' });
  }
}
