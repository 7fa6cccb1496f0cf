#!/usr/bin/env node
// Entry point of the operator CLI. The sources are TypeScript; tsx loads them without a build step
// so that `npx alertgraph` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

// The SDK warns on every run that its 2027 releases need Node 22; the CLI prints its own messages only.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
