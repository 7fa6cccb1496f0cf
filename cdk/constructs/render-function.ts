/**
 * The render function: closes days in the alert lake, draws the graphs and publishes them (lambdas/render), with
 * the grants it needs and the alarms on its failures. What starts it is RenderSchedules; what serves its output
 * is the Cdn.
 *
 * A part of Publishing, not a construct of its own: it adds its resources to the Publishing scope under the ids
 * they have always had. A construct level of its own would change the resources' construct paths, and with them
 * their logical ids and the names the CDK derives from the path (the revocation store's and the gate's names, the
 * public key's caller reference), which CloudFormation can only change by replacing the resource: a new, empty
 * revocation store, a new distribution origin. test/cdk/logical-ids.test.ts pins the ids.
 */
import { Duration, Size } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { FUNCTION_BUNDLES } from '../../lib/build/bundle.js';
import { functionEnvironment } from '../../lib/settings.js';
import type { DeployConfig } from '../config.js';
import type { AlarmFactory } from './alarms.js';
import { AlertgraphFunction } from './function.js';
import type { Lake } from './lake.js';
import type { Store } from './store.js';

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

export interface RenderFunctionProps {
  store: Store;
  /** Where the partner statistics run when their facts outgrow /tmp (lib/render/job.ts statisticsEngine). */
  lake: Lake;
  config: DeployConfig;
  alarms: AlarmFactory;
  metricsNamespace: string;
  /** The URL the public objects are served under (the Cdn's), for the embed snippet. */
  publicBaseUrl: string;
}

export class RenderFunction {
  readonly handler: AlertgraphFunction;

  constructor(scope: Construct, props: RenderFunctionProps) {
    const { store, lake, config } = props;

    this.handler = new AlertgraphFunction(scope, 'Renderer', {
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
      // Read by lib/config.ts loadRenderConfigAsync; variable names from lib/settings.ts.
      environment: functionEnvironment({
        tableName: store.table.tableName,
        bucketName: store.bucket.bucketName,
        horizonDays: config.horizonDays,
        pseudonymKeyParameter: config.pseudonymKeyParameter,
        dailyRenderAt: config.dailyRenderAt,
        watchedPorts: config.watchedPorts,
        publicBaseUrl: props.publicBaseUrl,
        scratchDir: RENDER_SCRATCH_DIR,
        engineMemoryLimit: engineMemoryLimit(config.renderMemoryMb),
        lakeWorkGroup: lake.workGroupName,
        lakeDatabase: lake.databaseName,
        warnBaselineDays: config.warnings.baselineDays,
        warnMinActiveDays: config.warnings.minActiveDays,
        warnSurgeFactor: config.warnings.surgeFactor,
        warnSurgeMinAlerts: config.warnings.surgeMinAlerts,
        warnSurgeMinSources: config.warnings.surgeMinSources,
        warnNewMinSources: config.warnings.newMinSources,
        warnSilentAfterSeconds: config.warnings.silentAfterSeconds,
        warnIdeaNodeName: config.warnings.ideaNodeName,
      }),
    });
    const fn = this.handler.function;
    store.grantItemRead(fn);
    store.grantItemWriteExceptRegistry(fn);
    // The close reads the lake, never raw/: `rebuild` reads the raw archive from the CLI, with the operator's
    // credentials, so the function that runs every hour cannot read a raw address.
    store.grantLakeReadWrite(fn);
    store.grantPublish(fn);
    // The partner statistics of a window too large for /tmp run on Athena (national volumes): its queries in
    // the lake's workgroup only (results where the workgroup puts them, scans bounded by its cutoff), over
    // the lake's two tables, reading the facts with the grants above.
    lake.grantStatistics(fn);
    store.grantAthenaResults(fn);
    this.handler.grantSecureParameterRead(config.pseudonymKeyParameter);

    props.alarms.onAny(scope, 'RenderErrors', (o) => fn.metricErrors(o), 'A render run failed: the published graphs are as of the last good run.');
    props.alarms.onAny(scope, 'RenderThrottles', (o) => fn.metricThrottles(o), 'The render function was throttled.');
  }
}
