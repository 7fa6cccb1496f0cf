/**
 * The alert lake's distributed engine (DESIGN §13): a Glue table over the compacted Parquet facts and an Athena
 * workgroup, for `query --stack` and `report --stack`, which operators run with their own credentials, and for
 * the render function's partner statistics once their 30-day window outgrows its /tmp (grantStatistics: queries
 * in this workgroup over these two tables, nothing else of Athena or Glue). The render job writes the Parquet
 * that the table describes.
 *
 * The table covers only `facts/day=YYYY-MM-DD/` (the staging CSV under `staging/` is DuckDB's alone), and its
 * partitions are projected from the `day` value: no crawler, no `MSCK REPAIR`, no partition to register after a
 * close. A day that has no Parquet yet is simply empty.
 */
import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FACT_COLUMNS, FACTS_TABLE, FIRST_SEEN_COLUMNS, FIRST_SEEN_TABLE, PARQUET_COLUMNS } from '../../lib/lake/sql.js';
import { ATHENA_RESULTS_PREFIX, FACTS_PREFIX, FIRST_SEEN_PREFIX } from '../../lib/publish/layout.js';

/** The partition column (a `YYYY-MM-DD` string in both engines) and the first day the projection covers. */
const PARTITION = FACT_COLUMNS.find((c) => c.name === 'day')!;
const FIRST_PROJECTED_DAY = '2020-01-01';

const PARQUET = {
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
};

/**
 * The Glue database and Athena workgroup names of a stack. Both are named (the workgroup must be; why the
 * database is: see Lake), and both names are derived from the stack's, which is unique in the account and region:
 * - Glue folds database names to lower case, and Athena wants only `[a-z0-9_]` (a hyphen must be quoted in
 *   every query), so `Alertgraph-Prod` gives `alertgraph_prod_lake`;
 * - workgroup names allow `[A-Za-z0-9._-]`, up to 128 characters: `Alertgraph-Prod-lake`.
 */
export function lakeNames(stackName: string): { database: string; workGroup: string } {
  if (Token.isUnresolved(stackName)) throw new Error('the lake names are derived from the stack name, which must be known at synth');
  const database = `${stackName.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_lake`;
  return { database, workGroup: `${stackName.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 123)}-lake` };
}

export interface LakeProps {
  bucket: s3.IBucket;
  /** Athena stops a query of the workgroup once it has scanned this many bytes. */
  bytesScannedCutoffPerQuery: number;
}

export class Lake extends Construct {
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly firstSeen: glue.CfnTable;
  readonly workGroup: athena.CfnWorkGroup;
  /** Names for the stack's outputs. */
  readonly databaseName: string;
  readonly tableName: string;
  readonly workGroupName: string;

  constructor(scope: Construct, id: string, props: LakeProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const names = lakeNames(stack.stackName);
    const { bucket } = props;
    const factsLocation = `s3://${bucket.bucketName}/${FACTS_PREFIX}`;

    // Named, not generated: left out, CloudFormation makes up a name with a hyphen (to be quoted in every Athena
    // query), and an update of a database declared without a name fails in Glue ("Database name cannot be equal
    // to null or empty", aws/aws-cdk#31158).
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: names.database,
        description: `alertgraph ${stack.stackName}: pseudonymized alert facts (DESIGN §13)`,
      },
    });

    this.table = new glue.CfnTable(this, 'Facts', {
      catalogId: stack.account,
      databaseName: this.database.ref,
      tableInput: {
        name: FACTS_TABLE,
        description: 'One row per counted alert, pseudonymized; one Parquet file per day written by the render job',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: PARTITION.name, type: PARTITION.athena, comment: PARTITION.comment }],
        storageDescriptor: {
          location: factsLocation,
          inputFormat: PARQUET.input,
          outputFormat: PARQUET.output,
          serdeInfo: { serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
          columns: PARQUET_COLUMNS.map((c) => ({ name: c.name, type: c.athena, comment: c.comment })),
        },
        parameters: {
          EXTERNAL: 'TRUE',
          classification: 'parquet',
          // Partition projection: Athena computes the day partitions (and their location) from the query's
          // `day` predicate, so nothing registers partitions when a day is closed or re-opened.
          'projection.enabled': 'true',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.range': `${FIRST_PROJECTED_DAY},NOW`,
          'projection.day.interval': '1',
          'projection.day.interval.unit': 'DAYS',
          'storage.location.template': `${factsLocation}day=\${day}/`,
        },
      },
    });

    // The first-seen table (one object per first day, `day=<day>.parquet`, each with both columns, so no
    // partitions): `report --stack` needs it for new sources.
    this.firstSeen = new glue.CfnTable(this, 'FirstSeen', {
      catalogId: stack.account,
      databaseName: this.database.ref,
      tableInput: {
        name: FIRST_SEEN_TABLE,
        description: 'Each source pseudonym with the first day any sensor saw it, one object per first day',
        tableType: 'EXTERNAL_TABLE',
        storageDescriptor: {
          location: `s3://${bucket.bucketName}/${FIRST_SEEN_PREFIX}`,
          inputFormat: PARQUET.input,
          outputFormat: PARQUET.output,
          serdeInfo: { serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
          columns: FIRST_SEEN_COLUMNS.map((c) => ({ name: c.name, type: c.athena, comment: c.comment })),
        },
        parameters: { EXTERNAL: 'TRUE', classification: 'parquet' },
      },
    });

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: names.workGroup,
      description: `alertgraph ${stack.stackName}: query --stack and report --stack over the alert lake`,
      state: 'ENABLED',
      // Deleting the stack deletes the workgroup with its saved queries and history; results stay in the bucket
      // (retained) until their lifecycle rule expires them.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        // Clients cannot send results elsewhere, unencrypted, or lift the cutoff.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        // The Athena variants of lib/lake/sql.ts DIALECT are written for engine 3 (Trino).
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${bucket.bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
          expectedBucketOwner: stack.account,
        },
      },
    });

    // `Ref` of the database and the workgroup is their name. A table's `Ref` is not documented the same way
    // everywhere (the CDK reads it as `catalog|database|table`), so the table's output is its name as declared.
    this.databaseName = this.database.ref;
    this.tableName = FACTS_TABLE;
    this.workGroupName = this.workGroup.ref;
  }

  /**
   * Runs the statistics' queries on Athena: start, follow, read and stop queries of this workgroup, and read the
   * definitions of this database and its two tables (Athena reads them with the caller's rights). The objects
   * themselves — the facts read, the results written — need their own S3 grants.
   */
  grantStatistics(grantee: iam.IGrantable): void {
    const stack = Stack.of(this);
    const glueArn = (resource: string) => stack.formatArn({ service: 'glue', resource });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'],
      resourceArns: [stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workGroupName })],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
      resourceArns: [
        glueArn('catalog'),
        glueArn(`database/${this.databaseName}`),
        glueArn(`table/${this.databaseName}/${FACTS_TABLE}`),
        glueArn(`table/${this.databaseName}/${FIRST_SEEN_TABLE}`),
      ],
    });
  }
}
