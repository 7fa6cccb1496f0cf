/**
 * The CDK app: one AlertgraphStack, checked by cdk-nag's AWS Solutions rules at every synth.
 *
 *   npx cdk synth -c linkPublicKeyFile=<public PEM> [-c stackName=Alertgraph] [-c key=value …]
 *
 * Settings: cdk/config.ts. Deploying: docs/DEPLOY.md.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, SETTINGS } from '../lib/settings.js';
import { AlertgraphStack } from './alertgraph-stack.js';
import { loadDeployConfig } from './config.js';

const app = new App();
let config;
try {
  config = loadDeployConfig((key) => app.node.tryGetContext(key));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  // A settings mistake is the operator's to fix: say it plainly, without a stack trace.
  process.stderr.write(`alertgraph: ${err.message}\n`);
  process.exit(1);
}

const stackName = (app.node.tryGetContext(SETTINGS.stackName.context) as string | undefined) ?? SETTINGS.stackName.default;
new AlertgraphStack(app, stackName, {
  config,
  // The account and region of the CLI's credentials when deploying; environment-agnostic for an offline synth.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

Aspects.of(app).add(new AwsSolutionsChecks());
