#!/usr/bin/env node
// Entry point of the operator CLI. The sources are TypeScript: the CLI runs a compiled bundle of them, built on
// first use and again whenever a source changes (bin/cli-build.js), so `npx alertgraph` works straight after
// `npm ci`; tsx loads the sources directly when no bundle can be built (or ALERTGRAPH_CLI_FROM_SOURCE=1).

// The SDK warns on every run that its 2027 releases need Node 22; the CLI prints its own messages only.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { compiledCli } = await import('./cli-build.js');
const compiled = await compiledCli();
let main;
if (compiled) {
  process.setSourceMapsEnabled(true);
  ({ main } = await import(compiled));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../lib/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
