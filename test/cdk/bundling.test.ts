/**
 * The one synth with real bundling: esbuild locally, and `npm ci` of sharp and DuckDB for linux-arm64 into the
 * render asset (from the npm cache, or the registry the first time). Checks what Lambda will unpack.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { BUNDLED_FONT_DIR, esbuildOptions, FONT_FILES, FUNCTION_BUNDLES, REPO_ROOT } from '../../lib/build/bundle.js';
import { functionId } from './policies.js';
import { synthesize } from './synth.js';

let outdir: string;
let renderDir: string;
let ingestDir: string;
let synthMs: number;

function assetDir(template: ReturnType<typeof synthesize>['template'], id: string): string {
  const metadata = template.findResources('AWS::Lambda::Function')[id]?.Metadata as Record<string, string> | undefined;
  const path = metadata?.['aws:asset:path'];
  if (!path) throw new Error(`no asset path on ${id}`);
  return join(outdir, path);
}

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'alertgraph-cdk-'));
  const started = Date.now();
  const { template } = synthesize({ bundle: true, outdir });
  synthMs = Date.now() - started;
  renderDir = assetDir(template, functionId(template, 'PublishingRenderer'));
  ingestDir = assetDir(template, functionId(template, 'IngestHandler'));
}, 240_000);

/** ELF header: e_machine (bytes 18–19, little-endian); 183 is AArch64. */
function elfMachine(path: string): number {
  return readFileSync(path).readUInt16LE(18);
}

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('bundled assets', () => {
  it('synthesizes with local bundling', () => {
    // Shown in the test output: the cost of the one bundling synth.
    console.info(`bundling synth took ${(synthMs / 1000).toFixed(1)} s`);
    expect(existsSync(join(renderDir, 'index.mjs'))).toBe(true);
  });

  it('installs sharp with its linux-arm64 binary and libvips in the render asset', () => {
    const img = join(renderDir, 'node_modules', '@img');
    expect(existsSync(join(renderDir, 'node_modules', 'sharp', 'package.json'))).toBe(true);
    const addons = readdirSync(join(img, 'sharp-linux-arm64', 'lib')).filter((f) => f.endsWith('.node'));
    expect(addons).toHaveLength(1);
    expect(elfMachine(join(img, 'sharp-linux-arm64', 'lib', addons[0]!))).toBe(183);
    expect(existsSync(join(img, 'sharp-libvips-linux-arm64'))).toBe(true);
    // Only Lambda's platform: no binary of the machine that bundled, no musl variant.
    expect(readdirSync(img).filter((d) => d.startsWith('sharp-') && !d.endsWith('linux-arm64'))).toEqual([]);
  });

  it('imports sharp from node_modules instead of bundling it', () => {
    const code = readFileSync(join(renderDir, 'index.mjs'), 'utf8');
    expect(code).toMatch(/from\s*["']sharp["']/);
  });

  it('installs DuckDB with its linux-arm64 (glibc) binding in the render asset', () => {
    const duckdb = join(renderDir, 'node_modules', '@duckdb');
    expect(existsSync(join(duckdb, 'node-api', 'package.json'))).toBe(true);
    const binding = join(duckdb, 'node-bindings-linux-arm64');
    const addons = readdirSync(binding).filter((f) => f.endsWith('.node'));
    expect(addons).toHaveLength(1);
    expect(elfMachine(join(binding, addons[0]!))).toBe(183);
  });

  it('installs no DuckDB binding for another platform (the bundling machine, musl, macOS, Windows)', () => {
    const duckdb = readdirSync(join(renderDir, 'node_modules', '@duckdb'));
    expect(duckdb.filter((d) => d.startsWith('node-bindings-') && d !== 'node-bindings-linux-arm64')).toEqual([]);
  });

  it('imports @duckdb/node-api from node_modules instead of bundling it', () => {
    const code = readFileSync(join(renderDir, 'index.mjs'), 'utf8');
    expect(code).toMatch(/(from\s*|import\(\s*)["']@duckdb\/node-api["']/);
  });

  it('puts the fonts beside the render bundle, where lib/charts/fonts.ts looks', () => {
    for (const file of FONT_FILES) expect(existsSync(join(renderDir, BUNDLED_FONT_DIR, file)), file).toBe(true);
  });

  it('leaves no install settings or lock file in the render asset', () => {
    expect(existsSync(join(renderDir, '.npmrc'))).toBe(false);
    expect(existsSync(join(renderDir, 'package-lock.json'))).toBe(false);
  });

  it('makes the ingest asset one ES module bundle with its source map and no sharp', () => {
    expect(readdirSync(ingestDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(readFileSync(join(ingestDir, 'index.mjs'), 'utf8')).not.toMatch(/sharp/);
  });

  it('keeps DuckDB and the Athena client out of the ingest asset', () => {
    const code = readFileSync(join(ingestDir, 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/@duckdb|node-bindings/);
    expect(code).not.toMatch(/StartQueryExecution|AmazonAthena/);
  });

  it('bundles no module of @aws-sdk/client-athena, @aws-sdk/client-ssm or @duckdb into the ingest function', async () => {
    // What esbuild reads for the ingest entry, with the stack's options: the same inputs as the asset.
    const result = await build({
      ...esbuildOptions(join(REPO_ROOT, FUNCTION_BUNDLES.ingest.entry), join(outdir, 'ingest-inputs', 'index.mjs'), FUNCTION_BUNDLES.ingest.installed),
      write: false,
      metafile: true,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('lambdas/ingest/handler.ts'))).toBe(true);
    expect(inputs.filter((i) => /node_modules\/(@aws-sdk\/client-athena|@duckdb)\//.test(i))).toEqual([]);
    // The pseudonym key is read with one signed request (lib/store/ssm-parameter.ts), not the SSM client: no byte
    // of it is in the output (esbuild still reads it, through the render function's loader in lib/config.ts,
    // and drops it as unused).
    const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined)!;
    const inOutput = Object.entries(output.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([k]) => k);
    expect(inOutput.filter((i) => /node_modules\/@aws-sdk\/client-ssm\//.test(i))).toEqual([]);
    expect(inOutput.some((i) => i.includes('lib/store/ssm-parameter.ts'))).toBe(true);
  });

  it('runs the ingest bundle as Lambda would load it (ESM, Node) and answers /healthz', () => {
    const script = `
      const { handler } = await import(${JSON.stringify(join(ingestDir, 'index.mjs'))});
      const res = await handler({ version: '2.0', routeKey: 'GET /healthz', rawPath: '/healthz', rawQueryString: '', headers: {},
        requestContext: { requestId: 'bundling-test', http: { method: 'GET', path: '/healthz', sourceIp: '192.0.2.1' } }, isBase64Encoded: false });
      process.stdout.write(JSON.stringify({ statusCode: res.statusCode }));`;
    const out = execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        TABLE_NAME: 'table',
        BUCKET_NAME: 'bucket',
        // On Lambda the key comes from SSM (PSEUDONYM_KEY_PARAMETER); given directly, no AWS call is made.
        PSEUDONYM_KEY: Buffer.alloc(32, 7).toString('base64'),
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ statusCode: 200 });
  });

  it('loads the render bundle (ESM, top-level await) when sharp and DuckDB are there for this machine', () => {
    // The asset's sharp and DuckDB are for arm64; a copy of the bundle beside this checkout's node_modules (both
    // for this machine) shows that the module itself loads and initialises.
    const dir = join(outdir, 'render-load-check');
    mkdirSync(dir);
    copyFileSync(join(renderDir, 'index.mjs'), join(dir, 'index.mjs'));
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const script = `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); process.stdout.write(typeof m.handler);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH,
        TABLE_NAME: 'table',
        BUCKET_NAME: 'bucket',
        PSEUDONYM_KEY: Buffer.alloc(32, 7).toString('base64'),
        PUBLIC_BASE_URL: 'https://d111111abcdef8.cloudfront.net',
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      encoding: 'utf8',
    });
    expect(out.trim().split('\n').at(-1)).toBe('function');
  });
});
