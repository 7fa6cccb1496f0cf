/**
 * The publishing path: the render function on two schedules, and the CDN in front of the bucket.
 *
 * What CloudFront serves (DESIGN §8, §9):
 * - `public/*` to anyone, cacheable, with CORS and Cross-Origin-Resource-Policy so other sites can embed it;
 * - `partners/*` only with a CloudFront signed URL (trusted key group), and only for partners not listed in the
 *   revocation KeyValueStore (the partner gate, a CloudFront Function);
 * - nothing else. `raw/` and the lake (`staging/`, `facts/`, `lake/`, `athena-results/`) are kept out twice:
 *   every behaviour runs the partner gate, which answers 404 for any path outside public/ and partners/ (the
 *   default behaviour catches `/raw/...` and rewrites only `/`), and the bucket policy denies CloudFront every
 *   object outside those two prefixes, so even a gate mistake cannot expose the raw archive or the facts.
 *
 * The gate sees the whole query string whatever the cache policy (viewer-request functions get the request as
 * the viewer sent it), and CloudFront checks the signed URL on every request to `partners/*` against the full
 * URL including `partner=`, before anything is served from cache. So the cache key can leave query strings out:
 * partner objects are the same for every partner, and no query string is forwarded to S3.
 */
import { createHash } from 'node:crypto';
import { Duration, Size, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLES } from '../../lib/build/bundle.js';
import { PARTNER_GATE_PATH, PARTNER_GATE_RUNTIME } from '../../lib/links/revocation.js';
import { PARTNERS_PREFIX, PUBLIC_PREFIX } from '../../lib/publish/layout.js';
import type { DeployConfig } from '../config.js';
import type { AlarmFactory } from './alarms.js';
import { AlertgraphFunction } from './function.js';
import type { Store } from './store.js';

export interface PublishingProps {
  store: Store;
  config: DeployConfig;
  alarms: AlarmFactory;
  metricsNamespace: string;
}

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

/** Where the render job brings the lake's objects and DuckDB spills: on Lambda's /tmp, its only writable disk. */
export const RENDER_SCRATCH_DIR = '/tmp/alertgraph';

/**
 * DuckDB's memory limit for a function of `memoryMb`: 60 %, leaving the rest to Node's heap, the SDK's buffers
 * and sharp, which run in the same process. Beyond its limit DuckDB spills to the scratch directory instead of
 * letting Lambda kill the run for exceeding its memory.
 */
export function engineMemoryLimit(memoryMb: number): string {
  return `${Math.floor(memoryMb * 0.6)}MB`;
}

export class Publishing extends Construct {
  readonly renderer: AlertgraphFunction;
  readonly distribution: cloudfront.Distribution;
  readonly revocations: cloudfront.KeyValueStore;
  readonly partnerGate: cloudfront.Function;
  readonly linkPublicKey: cloudfront.PublicKey;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: PublishingProps) {
    super(scope, id);
    const { store, config } = props;
    const bucket = store.bucket;

    // --- CDN ---------------------------------------------------------------------------------------------
    this.revocations = new cloudfront.KeyValueStore(this, 'Revocations', {
      comment: 'alertgraph: revoked partner ids (key) and when they were revoked (value)',
    });
    this.partnerGate = new cloudfront.Function(this, 'PartnerGate', {
      code: cloudfront.FunctionCode.fromFile({ filePath: PARTNER_GATE_PATH }),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      keyValueStore: this.revocations,
      comment: 'alertgraph: serves only public/ and partners/, refuses revoked partners',
    });
    if (this.partnerGate.functionRuntime !== PARTNER_GATE_RUNTIME) {
      throw new Error(`the partner gate is written for ${PARTNER_GATE_RUNTIME}, not ${this.partnerGate.functionRuntime}`);
    }

    // CloudFront cannot change a public key's material in place. The id carries a digest of the key, so a new
    // key is a new resource (created, swapped into the key group, then the old one deleted) rather than a failed
    // update; links signed with the old private key stop working, as a rotation should.
    const keyDigest = createHash('sha256').update(config.linkPublicKeyPem).digest('hex').slice(0, 8);
    this.linkPublicKey = new cloudfront.PublicKey(this, `LinkKey${keyDigest}`, {
      encodedKey: config.linkPublicKeyPem,
      comment: 'alertgraph partner links (private key in SSM)',
    });
    const linkKeys = new cloudfront.KeyGroup(this, 'LinkKeys', {
      items: [this.linkPublicKey],
      comment: 'alertgraph: keys that sign partner links',
    });

    const origin = origins.S3BucketOrigin.withOriginAccessControl(bucket, { originAccessLevels: [cloudfront.AccessLevel.READ] });
    const gate: cloudfront.FunctionAssociation[] = [{ function: this.partnerGate, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }];
    const security: cloudfront.ResponseSecurityHeadersBehavior = {
      contentTypeOptions: { override: true },
      strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
    };
    const publicHeaders = new cloudfront.ResponseHeadersPolicy(this, 'PublicHeaders', {
      comment: 'alertgraph public objects: embeddable anywhere',
      corsBehavior: {
        accessControlAllowOrigins: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD'],
        accessControlAllowHeaders: ['*'],
        accessControlAllowCredentials: false,
        accessControlMaxAge: Duration.hours(1),
        originOverride: true,
      },
      securityHeadersBehavior: security,
      // Lets pages that isolate themselves (Cross-Origin-Embedder-Policy) still embed the image.
      customHeadersBehavior: { customHeaders: [{ header: 'Cross-Origin-Resource-Policy', value: 'cross-origin', override: true }] },
    });
    const partnerHeaders = new cloudfront.ResponseHeadersPolicy(this, 'PartnerHeaders', {
      comment: 'alertgraph partner objects: not framed, no referrer (the signed URL must not leak), not indexed',
      securityHeadersBehavior: {
        ...security,
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      },
      customHeadersBehavior: { customHeaders: [{ header: 'X-Robots-Tag', value: 'noindex, nofollow', override: true }] },
    });

    const served = {
      origin,
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      cachedMethods: cloudfront.CachedMethods.CACHE_GET_HEAD,
      // Honours the objects' Cache-Control (lib/publish/layout.ts CACHE); no query string in the key or to S3.
      cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      compress: true,
      functionAssociations: gate,
    } satisfies cloudfront.BehaviorOptions;

    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: 'alertgraph: public graphs and partner statistics',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // `/` and anything outside the two areas: the gate rewrites `/` to the public page and 404s the rest.
      defaultBehavior: { ...served, responseHeadersPolicy: publicHeaders },
      additionalBehaviors: {
        [`${PUBLIC_PREFIX}*`]: { ...served, responseHeadersPolicy: publicHeaders },
        [`${PARTNERS_PREFIX}*`]: { ...served, responseHeadersPolicy: partnerHeaders, trustedKeyGroups: [linkKeys] },
      },
    });

    // The OAC grant covers every object; this denies CloudFront everything outside public/ and partners/.
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CdnServesOnlyPublicAndPartners',
        effect: iam.Effect.DENY,
        principals: [new iam.ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject'],
        notResources: [bucket.arnForObjects(`${PUBLIC_PREFIX}*`), bucket.arnForObjects(`${PARTNERS_PREFIX}*`)],
      }),
    );

    // --- render function ---------------------------------------------------------------------------------
    this.renderer = new AlertgraphFunction(this, 'Renderer', {
      bundle: FUNCTION_BUNDLES.render,
      description: 'alertgraph render: closes days in the alert lake (DuckDB), draws the graphs (Vega, sharp) and publishes them',
      serviceName: 'alertgraph-render',
      metricsNamespace: props.metricsNamespace,
      logRetention: config.logRetention,
      // DuckDB, Vega and librsvg hold their data in memory, and memory buys CPU for the close and the rasterising.
      memorySize: config.renderMemoryMb,
      // A national-scale close can take minutes, and a run with `all` (after `rebuild`) rolls up the whole history:
      // the job gets Lambda's whole 15 minutes and resumes at the first unfinished day when a run is cut short;
      // hourly runs take seconds.
      timeout: Duration.minutes(15),
      // The close brings a day's staging and Parquet objects and the first-seen table into /tmp, and DuckDB
      // spills there: Lambda's largest /tmp (billed per GB-second, a fraction of the memory's price).
      ephemeralStorageSize: Size.gibibytes(10),
      environment: {
        TABLE_NAME: store.table.tableName,
        BUCKET_NAME: bucket.bucketName,
        HORIZON_DAYS: String(config.horizonDays),
        PSEUDONYM_KEY_PARAMETER: config.pseudonymKeyParameter,
        DAILY_RENDER_AT: config.dailyRenderAt,
        WATCHED_PORTS: config.watchedPorts,
        PUBLIC_BASE_URL: `https://${this.distribution.distributionDomainName}`,
        SCRATCH_DIR: RENDER_SCRATCH_DIR,
        ENGINE_MEMORY_LIMIT: engineMemoryLimit(config.renderMemoryMb),
      },
    });
    const fn = this.renderer.function;
    store.grantItemRead(fn);
    store.grantItemWriteExceptRegistry(fn);
    // The close reads the lake, never raw/: `rebuild` reads the raw archive from the CLI, with the operator's
    // credentials, so the function that runs every hour cannot read a raw address.
    store.grantLakeReadWrite(fn);
    store.grantPublish(fn);
    this.renderer.grantSecureParameterRead(config.pseudonymKeyParameter);

    // --- schedules -----------------------------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'RenderDeadLetters', {
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
    const schedules = renderSchedules(config.dailyRenderAt);
    // One role for both schedules, declared here so it has a stable place in the tree (and its suppression).
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
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
    new scheduler.Schedule(this, 'DailyRender', {
      description: `alertgraph: close yesterday and render, daily at ${config.dailyRenderAt} UTC`,
      schedule: scheduler.ScheduleExpression.cron(schedules.daily),
      target: invoke('daily'),
    });
    new scheduler.Schedule(this, 'HourlyRender', {
      description: 'alertgraph: render today so far, every hour except the daily run\'s',
      schedule: scheduler.ScheduleExpression.cron(schedules.hourly),
      target: invoke('hourly'),
    });

    // --- alarms --------------------------------------------------------------------------------------------
    const fiveMinutes = Duration.minutes(5);
    props.alarms.create(this, 'RenderErrors', {
      metric: fn.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      description: 'A render run failed: the published graphs are as of the last good run.',
    });
    props.alarms.create(this, 'RenderThrottles', {
      metric: fn.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      description: 'The render function was throttled.',
    });
    props.alarms.create(this, 'RenderDeadLettersVisible', {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: 1,
      evaluationPeriods: 1,
      description: 'A scheduled render gave up after its retries; the event is in the dead-letter queue.',
    });

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
    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason: 'The public graphs are meant for anyone anywhere (DESIGN §1); partners are restricted by signed URLs, not by country.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF: the distribution serves static objects only (GET/HEAD), the partner area is gated by signed URLs and the gate function, and a web ACL would cost more than the whole service.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'No CloudFront access logs: they would store every viewer\'s IP address, which the design keeps out of logs; CloudFront metrics cover operations and the gate answers carry their reason.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the TLS policy; a custom domain with its own certificate would set TLSv1.2_2021.',
      },
    ]);
  }
}
