/**
 * The publishing path, in three parts: the Cdn in front of the bucket (cdn.ts), the render function that fills
 * it (render-function.ts), and the schedules that run that function (render-schedules.ts).
 *
 * The parts add their resources to this one construct, so every resource keeps the construct path, and hence the
 * logical id and the path-derived names, it had when this constructor held them all (why: cdn.ts).
 */
import { Construct } from 'constructs';
import type { DeployConfig } from '../config.js';
import type { AlarmFactory } from './alarms.js';
import { Cdn } from './cdn.js';
import type { AlertgraphFunction } from './function.js';
import { RenderFunction } from './render-function.js';
import { RenderSchedules } from './render-schedules.js';
import type { Lake } from './lake.js';
import type { Store } from './store.js';

export interface PublishingProps {
  store: Store;
  /** The lake's Athena workgroup and Glue tables, for partner statistics that outgrow the render function. */
  lake: Lake;
  config: DeployConfig;
  alarms: AlarmFactory;
  metricsNamespace: string;
}

export class Publishing extends Construct {
  readonly cdn: Cdn;
  readonly schedules: RenderSchedules;
  /** The render function. */
  readonly renderer: AlertgraphFunction;

  constructor(scope: Construct, id: string, props: PublishingProps) {
    super(scope, id);
    const { store, lake, config, alarms } = props;
    this.cdn = new Cdn(this, { bucket: store.bucket, linkPublicKeyPem: config.linkPublicKeyPem });
    this.renderer = new RenderFunction(this, { store, lake, config, alarms, metricsNamespace: props.metricsNamespace, publicBaseUrl: this.cdn.baseUrl }).handler;
    this.schedules = new RenderSchedules(this, { target: this.renderer.function, dailyRenderAt: config.dailyRenderAt, alarms });
  }
}
