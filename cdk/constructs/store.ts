/**
 * The stateful part: the one table (lib/store/table.ts) and the one private bucket (lib/publish/layout.ts).
 * Both outlive the stack (RETAIN): they hold the history, which nothing can regenerate once raw batches expire.
 *
 * Access is granted through the methods below, which say what each function may touch, in the terms of the
 * key schema and the bucket layout, and never with wildcard actions.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { ATHENA_RESULTS_PREFIX, FACTS_PREFIX, LAKE_PREFIX, PARTNERS_PREFIX, PUBLIC_PREFIX, RAW_PREFIX, STAGING_PREFIX } from '../../lib/publish/layout.js';
import { KEY_ATTRIBUTES, REGISTRY_PARTNER_PK, REGISTRY_SENSOR_PK, type ItemAccess } from '../../lib/store/table.js';

export interface StoreProps {
  /** Days after which a raw batch under raw/ is deleted. */
  rawRetentionDays: number;
  /**
   * The one IAM role (ARN) that may delete raw batches before their lifecycle does, e.g. to honour an erasure
   * request. Without it no principal may: the way left is to change the bucket policy, deliberately.
   */
  rawArchiveAdminRoleArn?: string;
}

/**
 * Days Athena's result files (`query --stack`, `report --stack`) are kept: the CLI reads a result as soon as
 * the query ends, and the files hold query answers over pseudonymized facts, which need not pile up.
 */
export const ATHENA_RESULTS_RETENTION_DAYS = 7;

/** Item reads the functions use (no Scan: every access path is a key or a Query). */
const ITEM_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const ITEM_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

/** The partition keys only the operator (the CLI) writes: the sensor and partner registries. */
export const REGISTRY_PK_PATTERN = 'REGISTRY#*';
// Kept in step with the key schema: a registry partition that did not match would be writable by the functions.
for (const pk of [REGISTRY_SENSOR_PK, REGISTRY_PARTNER_PK]) {
  if (!pk.startsWith(REGISTRY_PK_PATTERN.slice(0, -1))) throw new Error(`registry partition ${pk} is not covered by ${REGISTRY_PK_PATTERN}`);
}

export class Store extends Construct {
  readonly table: dynamodb.Table;
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StoreProps) {
    super(scope, id);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: KEY_ATTRIBUTES.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: KEY_ATTRIBUTES.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: KEY_ATTRIBUTES.ttl,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Deleting the counters by accident (console, API) should take two deliberate steps.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // No versioning: raw batches are written once (If-None-Match, enforced by the bucket policy below) and
      // everything else is rendered again every hour, so old versions would only pile up hourly public images.
      versioned: false,
      lifecycleRules: [
        { id: 'expire-raw-batches', prefix: RAW_PREFIX, expiration: Duration.days(props.rawRetentionDays) },
        // A counted batch's staging facts are deleted by the close that compacts them; what is left is the facts
        // of batches that were never counted (a crash never retried), which no close will ever take.
        { id: 'expire-uncounted-staging', prefix: STAGING_PREFIX, expiration: Duration.days(props.rawRetentionDays) },
        { id: 'expire-athena-results', prefix: ATHENA_RESULTS_PREFIX, expiration: Duration.days(ATHENA_RESULTS_RETENTION_DAYS) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.protectRawArchive(props.rawArchiveAdminRoleArn);

    NagSuppressions.addResourceSuppressions(this.bucket, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'No server access logs: only the two functions (by IAM role) and CloudFront (by OAC, public/ and partners/ only) can reach the bucket; ' +
          'the CloudFront and Lambda metrics and logs cover its use, and CloudTrail data events can be enabled for an audit without another bucket.',
      },
    ]);
  }

  /**
   * The raw archive is the source of truth that `rebuild` recomputes everything from, and "the first archived
   * copy of a batch is the one that counts" (lib/store/raw-archive.ts). The bucket policy makes that hold for
   * every principal, whatever its IAM policy says, not only for the code as written:
   * - a put under raw/ must carry `If-None-Match: *` (S3 then refuses to replace an existing object), so no one
   *   can overwrite a batch; multipart parts carry no conditional header, so only the creating operations
   *   (PutObject, CompleteMultipartUpload) are held to it, as the S3 guide on enforcing conditional writes says;
   * - no one deletes under raw/ except the admin role, if one is named. The lifecycle rule still expires batches
   *   after the retention: S3 runs it itself, not as a request by a principal that a policy could deny.
   * Object Lock would also stop deletes, but it needs versioning on the whole bucket (the hourly public/ rewrites
   * would pile up versions), it is set per object or bucket-wide rather than per prefix, and a compliance-mode
   * retention would keep a batch even from an erasure request.
   */
  private protectRawArchive(adminRoleArn: string | undefined): void {
    const raw = this.bucket.arnForObjects(`${RAW_PREFIX}*`);
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'RawArchiveCreateOnly',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [raw],
        conditions: { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } },
      }),
    );
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'RawArchiveKept',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        resources: [raw],
        ...(adminRoleArn !== undefined ? { conditions: { ArnNotEquals: { 'aws:PrincipalArn': adminRoleArn } } } : {}),
      }),
    );
  }

  /**
   * Exactly the item access described (lib/store/table.ts INGEST_ITEM_ACCESS): the actions, on items whose
   * partition keys all match one of the patterns (`dynamodb:LeadingKeys`).
   */
  grantItems(grantee: iam.IGrantable, access: ItemAccess): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...access.actions],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...access.partitions] } },
    });
  }

  /** Reads items anywhere in the table. */
  grantItemRead(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ITEM_READ_ACTIONS, resourceArns: [this.table.tableArn] });
  }

  /**
   * Writes items in every partition except the registries (render): a function can never register, re-key or
   * un-revoke a sensor or a partner. `dynamodb:LeadingKeys` is the set of
   * partition keys a request touches; all of them must fall outside REGISTRY#*.
   */
  grantItemWriteExceptRegistry(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ITEM_WRITE_ACTIONS,
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': [REGISTRY_PK_PATTERN] } },
    });
  }

  /** Writes new raw batches (ingest). */
  grantRawArchiveWrite(grantee: iam.IGrantable): void {
    this.grantObjects(grantee, ['s3:PutObject'], [RAW_PREFIX]);
  }

  /**
   * Writes a batch's facts under staging/ (ingest). Nothing else of the lake: compacting, superseding and
   * deleting staging objects is the render job's.
   */
  grantFactsStaging(grantee: iam.IGrantable): void {
    this.grantObjects(grantee, ['s3:PutObject'], [STAGING_PREFIX]);
  }

  /**
   * Reads, writes and deletes the whole lake (render): the staging objects it compacts and then deletes, the
   * day partitions under facts/ it (re)writes, and the first-seen table and close state under lake/.
   */
  grantLakeReadWrite(grantee: iam.IGrantable): void {
    this.grantObjects(grantee, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], [STAGING_PREFIX, FACTS_PREFIX, LAKE_PREFIX]);
    this.grantList(grantee);
  }

  /**
   * Publishes public/ and partners/ objects (render). Reading public/ is for the HEAD that checks whether a
   * day's write-once archive copy exists.
   */
  grantPublish(grantee: iam.IGrantable): void {
    this.grantObjects(grantee, ['s3:PutObject'], [PUBLIC_PREFIX, PARTNERS_PREFIX]);
    this.grantObjects(grantee, ['s3:GetObject'], [PUBLIC_PREFIX]);
    this.grantList(grantee);
  }

  /**
   * Writes and reads Athena's results of the queries it runs under athena-results/ (render, for the partner
   * statistics on Athena): the workgroup sends every result there, and the caller's rights write it.
   */
  grantAthenaResults(grantee: iam.IGrantable): void {
    this.grantObjects(grantee, ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], [ATHENA_RESULTS_PREFIX]);
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetBucketLocation'], resourceArns: [this.bucket.bucketArn] });
  }

  private grantObjects(grantee: iam.IGrantable, actions: string[], prefixes: string[]): void {
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: prefixes.map((p) => this.bucket.arnForObjects(`${p}*`)) });
    if (grant.principalStatement) this.suppressPrefixWildcards(grantee);
  }

  /**
   * ListBucket without a prefix condition: S3 answers a HEAD for a missing key with 404 only to a caller that
   * may list the bucket (403 otherwise), and HEAD requests carry no prefix for a condition to match.
   */
  private grantList(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
  }

  private suppressPrefixWildcards(grantee: iam.IGrantable): void {
    const principal = grantee.grantPrincipal;
    if (!(principal instanceof iam.Role)) return;
    NagSuppressions.addResourceSuppressions(
      principal,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Object grants are scoped to one prefix of the bucket layout (raw/, public/, partners/, staging/, facts/, lake/ or athena-results/); keys below it are generated per batch, per day and per query.',
          appliesTo: [{ regex: '/^Resource::<.*Bucket[0-9A-F]{8}\\.Arn>\\/(raw|public|partners|staging|facts|lake|athena-results)\\/\\*$/g' }],
        },
      ],
      true,
    );
  }
}
