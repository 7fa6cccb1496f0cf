#!/usr/bin/env node
// Entry point of the operator CLI. The sources are TypeScript; tsx loads them without a build step
// so that `npx alertgraph` works straight after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
