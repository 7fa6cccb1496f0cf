/**
 * Bundle figures: the size of each function's bundle, and the cold import of the ingest bundle against a
 * bundle holding only the AWS SDK clients the ingest function uses — built with the same settings, imported
 * alternately in fresh Node processes.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { esbuildOptions, FUNCTION_BUNDLES, REPO_ROOT } from '../lib/build/bundle.js';
import { median, round } from './stats.js';

const run = promisify(execFile);

async function bundle(entry: string, outfile: string, external: readonly string[] = [], nodePaths?: string[]): Promise<number> {
  await build({ ...esbuildOptions(entry, outfile, external), logLevel: 'error', ...(nodePaths ? { nodePaths } : {}) });
  return (await stat(outfile)).size;
}

/** Milliseconds to import `file` in a fresh Node process, measured inside it (process start excluded). */
async function coldImportMs(file: string, env: Record<string, string>): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - t));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env } });
  return Number(stdout);
}

export interface BundleFigures {
  ingestBytes: number;
  renderBytes: number;
  sdkOnlyBytes: number;
  ingestImportMs: number;
  sdkImportMs: number;
  ingestImportOverSdk: number;
}

export async function benchBundles(workDir: string, rounds = 15): Promise<BundleFigures> {
  const dir = join(workDir, 'bundles');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const ingest = join(dir, 'ingest.mjs');
  const render = join(dir, 'render.mjs');
  const sdk = join(dir, 'sdk-only.mjs');
  const ingestBytes = await bundle(join(REPO_ROOT, FUNCTION_BUNDLES.ingest.entry), ingest);
  const renderBytes = await bundle(join(REPO_ROOT, FUNCTION_BUNDLES.render.entry), render, FUNCTION_BUNDLES.render.installed);
  // The clients (and the commands) the ingest function sends, constructed as the handler constructs them.
  const sdkEntry = join(dir, 'sdk-entry.mjs');
  await writeFile(
    sdkEntry,
    `import { DynamoDBClient, PutItemCommand, GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { S3Client, PutObjectCommand } from '@aws-sdk/client-s3';
export const clients = [new DynamoDBClient({}), new S3Client({})];
export const commands = [PutItemCommand, GetItemCommand, QueryCommand, UpdateItemCommand, PutObjectCommand];
`,
  );
  // The entry is outside the repository: resolve the SDK from the repository's node_modules.
  const sdkBytes = await bundle(sdkEntry, sdk, [], [join(REPO_ROOT, 'node_modules')]);

  // The pseudonym key in the environment: on AWS the function reads it from SSM during its init phase (a
  // network call this figure leaves out); with PSEUDONYM_KEY set the config loader returns without it.
  const env = {
    TABLE_NAME: 'bench',
    BUCKET_NAME: 'bench',
    AWS_REGION: 'us-east-1',
    PSEUDONYM_KEY: Buffer.alloc(32, 3).toString('base64'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const ingestTimes: number[] = [];
  const sdkTimes: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const a = await coldImportMs(ingest, env);
    const b = await coldImportMs(sdk, env);
    ingestTimes.push(a);
    sdkTimes.push(b);
    ratios.push(a / b);
  }
  return {
    ingestBytes,
    renderBytes,
    sdkOnlyBytes: sdkBytes,
    ingestImportMs: round(median(ingestTimes)),
    sdkImportMs: round(median(sdkTimes)),
    ingestImportOverSdk: round(median(ratios)),
  };
}
