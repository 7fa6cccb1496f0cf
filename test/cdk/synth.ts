/**
 * Synthesizes the stack the way `cdk synth` does (the feature flags of cdk.json, the cdk-nag checks of
 * cdk/app.ts), with a throwaway link public key: only its public half exists, generated per run, so no key
 * that could sign anything is ever in the repository.
 */
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AlertgraphStack } from '../../cdk/alertgraph-stack.js';
import { loadDeployConfig } from '../../cdk/config.js';
import { REPO_ROOT } from '../../lib/build/bundle.js';
import { generateLinkKeyPair } from '../../lib/links/signed-url.js';

const cdkJson = JSON.parse(readFileSync(`${REPO_ROOT}/cdk.json`, 'utf8')) as { context: Record<string, unknown> };

export function testLinkPublicKeyPem(): string {
  return generateLinkKeyPair().publicKeyPem;
}

export interface Synthesized {
  app: App;
  stack: AlertgraphStack;
  template: Template;
}

/**
 * `bundle: false` (unit tests) sets `aws:cdk:bundling-stacks: []`, so NodejsFunction skips esbuild and npm and
 * the assets are placeholders; `bundle: true` runs the real local bundling.
 */
export function synthesize(options: { bundle: boolean; context?: Record<string, unknown>; outdir?: string }): Synthesized {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...cdkJson.context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      // Records each asset's directory on its resource (Metadata aws:asset:path), as the CDK CLI does.
      'aws:cdk:enable-asset-metadata': true,
      linkPublicKeyPem: testLinkPublicKeyPem(),
      ...options.context,
    },
  });
  const config = loadDeployConfig((key) => app.node.tryGetContext(key));
  const stack = new AlertgraphStack(app, 'AlertgraphTest', { config });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName(stack.stackName).template as Record<string, unknown>);
  return { app, stack, template };
}
