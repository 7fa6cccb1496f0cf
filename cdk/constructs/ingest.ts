/**
 * The ingest path: an HTTP API (API Gateway v2, payload format 2.0) in front of the ingest function, with
 * throttling and access logs on its one stage, and the alarms that say sensors are being failed.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLES } from '../../lib/build/bundle.js';
import { functionEnvironment } from '../../lib/settings.js';
import { INGEST_ITEM_ACCESS } from '../../lib/store/table.js';
import type { DeployConfig } from '../config.js';
import { ALARM_PERIOD, type AlarmFactory } from './alarms.js';
import { AlertgraphFunction } from './function.js';
import type { Store } from './store.js';

export interface IngestProps {
  store: Store;
  config: DeployConfig;
  alarms: AlarmFactory;
  metricsNamespace: string;
}

export class Ingest extends Construct {
  readonly api: apigwv2.HttpApi;
  readonly stage: apigwv2.HttpStage;
  readonly handler: AlertgraphFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const { store, config } = props;

    this.handler = new AlertgraphFunction(this, 'Handler', {
      bundle: FUNCTION_BUNDLES.ingest,
      description: 'alertgraph ingest: verifies signed alert batches, archives them to raw/, stages their facts and counts them',
      serviceName: 'alertgraph-ingest',
      metricsNamespace: props.metricsNamespace,
      logRetention: config.logRetention,
      // Verification and parsing are CPU-bound: more memory is more CPU, and a 5 MiB batch must not time out.
      memorySize: 1024,
      timeout: Duration.seconds(29),
      // Read by lib/config.ts loadIngestConfigAsync; variable names from lib/settings.ts.
      environment: functionEnvironment({
        tableName: store.table.tableName,
        bucketName: store.bucket.bucketName,
        horizonDays: config.horizonDays,
        maxBodyBytes: config.maxBodyBytes,
        maxAlertsPerBatch: config.maxAlertsPerBatch,
        sensorCacheTtlSeconds: config.sensorCacheTtlSeconds,
        maxDaysPerBatch: config.maxDaysPerBatch,
        ingestDeadlineSeconds: config.ingestDeadlineSeconds,
        sensorBatchesPerSecond: config.sensorBatchesPerSecond,
        sensorBatchBurst: config.sensorBatchBurst,
        // How often a sensor's last-seen mark is refreshed follows the silence threshold (lib/ingest/seen.ts).
        warnSilentAfterSeconds: config.warnings.silentAfterSeconds,
        // The facts carry HMAC pseudonyms of the addresses (DESIGN §6, §13), with the render function's key.
        pseudonymKeyParameter: config.pseudonymKeyParameter,
      }),
    });
    const fn = this.handler.function;
    // Reads the sensor registry and its own contributions, puts new claims, contributions and dirty marks:
    // nothing else in the table (no update, no delete, no summary, history, partner or link audit item).
    store.grantItems(fn, INGEST_ITEM_ACCESS.read);
    store.grantItems(fn, INGEST_ITEM_ACCESS.write);
    store.grantRawArchiveWrite(fn);
    store.grantFactsStaging(fn);
    this.handler.grantSecureParameterRead(config.pseudonymKeyParameter);

    this.api = new apigwv2.HttpApi(this, 'Api', {
      description: 'alertgraph: signed alert batches from IDS sensors',
      // The stage is declared below with throttling and access logs, which the implicit one cannot have.
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('Handler', fn, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 });
    this.api.addRoutes({ path: '/v1/batches', methods: [apigwv2.HttpMethod.POST], integration });
    this.api.addRoutes({ path: '/healthz', methods: [apigwv2.HttpMethod.GET], integration });
    this.api.addRoutes({ path: '/openapi.json', methods: [apigwv2.HttpMethod.GET], integration });

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: config.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        // No source address: the design keeps raw IP addresses out of logs. The sensor is in the function's log.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            route: '$context.routeKey',
            status: '$context.status',
            bytes: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            integrationLatencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            error: '$context.error.message',
          }),
        ),
      },
    });

    props.alarms.create(this, 'ServerErrors', {
      metric: this.api.metricServerError({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      threshold: 5,
      evaluationPeriods: 1,
      description: 'Ingest API answered 5xx (storage throttled or unavailable, or the function failed): sensors are retrying or spooling.',
    });
    props.alarms.create(this, 'LatencyP99', {
      metric: this.api.metricLatency({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.p(99) }),
      threshold: 5000,
      evaluationPeriods: 3,
      description: 'Ingest API p99 latency above 5 s for 15 minutes.',
    });
    props.alarms.onAny(this, 'Throttles', (o) => fn.metricThrottles(o), 'The ingest function was throttled (account concurrency exhausted).');
    // A flood of junk shows as 4xx (401 from the function, 429 from the stage once its bucket is empty): alarm
    // when a fifth of the stage's five-minute capacity is refused, far above what honest sensors cause.
    props.alarms.create(this, 'ClientErrors', {
      metric: this.api.metricClientError({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.SUM }),
      threshold: Math.ceil(config.apiRateLimit * ALARM_PERIOD.toSeconds() * 0.2),
      evaluationPeriods: 1,
      description: 'Ingest API answered many 4xx (a flood of unsigned or unknown requests, or the stage throttling): sensors may be getting 429.',
    });

    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Routes authenticate in the function, not at the gateway: every batch carries an RFC 9421 Ed25519 signature checked against the sensor registry; /healthz and /openapi.json are public by design.',
        },
      ],
      true,
    );
  }
}
