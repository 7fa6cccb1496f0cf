/**
 * One Lambda function of alertgraph, with the defaults set once: arm64, Node 22, an ESM bundle built locally by
 * esbuild (minified, source maps on), its own log group with a retention, an execution role that may write to
 * that log group and nothing else until the owner grants more, and the Powertools environment.
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import {
  BUNDLE_TARGET,
  ESM_REQUIRE_BANNER,
  LAMBDA_NPMRC,
  MAIN_FIELDS,
  REPO_ROOT,
  type FunctionBundle,
} from '../../lib/build/bundle.js';

export interface AlertgraphFunctionProps {
  bundle: FunctionBundle;
  description: string;
  /** The `service` of every log line and metric. */
  serviceName: string;
  metricsNamespace: string;
  environment: Record<string, string>;
  logRetention: logs.RetentionDays;
  memorySize?: number;
  timeout?: Duration;
  /** Size of /tmp; Lambda's default is 512 MiB. */
  ephemeralStorageSize?: Size;
}

/** Quotes a path for the bash that runs NodejsFunction's command hooks. */
function sh(path: string): string {
  return `'${path.replace(/'/g, `'\\''`)}'`;
}

export class AlertgraphFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AlertgraphFunctionProps) {
    super(scope, id);
    const { bundle } = props;

    // Logs are operational data: kept for the retention, removed with the stack.
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });

    // Our own role rather than the default one with AWSLambdaBasicExecutionRole, whose log permissions cover
    // every log group in the account.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.serviceName}: writes its own logs; further grants by the owning construct`,
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const npmrc = LAMBDA_NPMRC.replace(/\n/g, '\\n');
    const installs = bundle.installed.length > 0;
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, bundle.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      ...(props.ephemeralStorageSize ? { ephemeralStorageSize: props.ephemeralStorageSize } : {}),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace,
        ...props.environment,
      },
      bundling: {
        // esbuild is a dependency of the project; Docker is neither needed nor wanted.
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: BUNDLE_TARGET,
        mainFields: MAIN_FIELDS,
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: true,
        // Stack traces need the mappings, not the sources: the map stays a quarter of the size.
        sourcesContent: false,
        // Bundle the AWS SDK too: the versions that ran in the tests, not whatever the runtime ships.
        externalModules: [],
        // Even an empty list makes NodejsFunction run `npm ci`, so only functions that install something set it.
        ...(installs ? { nodeModules: [...bundle.installed] } : {}),
        commandHooks: {
          beforeBundling: () => [],
          // NodejsFunction runs `npm ci` in the output directory for `nodeModules`; this .npmrc makes it pick
          // the linux-arm64 binaries whatever machine bundles.
          beforeInstall: (_input, output) => (installs ? [`printf '${npmrc}\\n' > ${sh(join(output, '.npmrc'))}`] : []),
          afterBundling: (input, output) => [
            ...bundle.copies.flatMap(([from, to]) => [
              `mkdir -p ${sh(join(output, to, '..'))}`,
              `cp ${sh(join(input, from))} ${sh(join(output, to))}`,
            ]),
            // The install settings and the repository's whole lock file have no use at run time.
            ...(installs ? [`rm -f ${sh(join(output, '.npmrc'))} ${sh(join(output, 'package-lock.json'))}`] : []),
          ],
        },
      },
    });

    NagSuppressions.addResourceSuppressions(this.function, [
      {
        id: 'AwsSolutions-L1',
        reason: 'Node.js 22 is the runtime the code is built and tested for (esbuild target node22); moving to a newer runtime is a deliberate change, not a default.',
      },
    ]);
  }

  /**
   * Reads one SSM parameter, named by its path (`/alertgraph/…`), and no other. A SecureString under the AWS
   * managed key needs no KMS grant: that key's policy lets callers in the account decrypt through SSM.
   */
  grantSecureParameterRead(parameterName: string): void {
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [Stack.of(this).formatArn({ service: 'ssm', resource: 'parameter', resourceName: parameterName.replace(/^\//, '') })],
      }),
    );
  }
}
