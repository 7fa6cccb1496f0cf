/**
 * The deployed stack's CloudFormation outputs: the contract between the CDK stack that writes them
 * (cdk/alertgraph-stack.ts) and the CLI that reads them for `--stack` (lib/admin/deployed-stack.ts). Neither side spells an
 * output key anywhere else.
 */

export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  cdnDomainName: 'CdnDomainName',
  tableName: 'TableName',
  bucketName: 'BucketName',
  revocationStoreArn: 'RevocationStoreArn',
  renderFunctionName: 'RenderFunctionName',
  linkKeyPairId: 'LinkKeyPairId',
  linkPrivateKeyParameter: 'LinkPrivateKeyParameter',
  pseudonymKeyParameter: 'PseudonymKeyParameter',
  alarmTopicArn: 'AlarmTopicArn',
  ingestLogGroup: 'IngestLogGroup',
  renderLogGroup: 'RenderLogGroup',
  renderDeadLetterQueueUrl: 'RenderDeadLetterQueueUrl',
  lakeDatabase: 'LakeDatabase',
  lakeWorkGroup: 'LakeWorkGroup',
  // The settings the functions run with (lib/settings.ts StackSettings), so that the CLI uses the same ones:
  // `rebuild --stack` writes contributions whose expiry follows the horizon.
  horizonDays: 'HorizonDays',
  dailyRenderAt: 'DailyRenderAt',
  watchedPorts: 'WatchedPorts',
} as const;

export type StackOutputKey = keyof typeof STACK_OUTPUTS;

/**
 * Output key of the lake's Glue table name. Not in STACK_OUTPUTS: the CLI knows the table as FACTS_TABLE
 * (lib/lake/sql.ts); this one is for operators querying in the Athena console.
 */
export const LAKE_TABLE_OUTPUT = 'LakeTable';
