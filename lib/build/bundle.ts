/**
 * How the Lambda functions are bundled, in one place: the CDK stack (cdk/constructs/function.ts) passes these
 * settings to NodejsFunction, and `npm run build` (this file run directly) produces the same bundles under
 * `dist/` so their size and content can be inspected without synthesizing the stack.
 *
 * ESM output: lib/ uses `import.meta.url` (the font directory in lib/charts/fonts.ts, the gate source path in
 * lib/links/revocation.ts) and the render handler uses top-level await; a CommonJS bundle has neither.
 * Some bundled CommonJS dependencies still call `require` for Node built-ins, which an ES module lacks; the
 * banner defines it from `createRequire`, the usual fix.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BuildOptions } from 'esbuild';

/** The repository root (this file is lib/build/bundle.ts). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Lambda's Node 22 runtime. */
export const BUNDLE_TARGET = 'node22';

/** Gives the ES module bundle a CommonJS `require` for dependencies that still call it. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __alertgraphCreateRequire } from 'node:module'; const require = __alertgraphCreateRequire(import.meta.url);";

/** Prefer a package's ES module build, so that tree shaking works and `import.meta` keeps its meaning. */
export const MAIN_FIELDS = ['module', 'main'];

export interface FunctionBundle {
  /** Handler source, relative to the repository root. */
  entry: string;
  /**
   * Packages installed with npm into the bundle's node_modules instead of being bundled: native addons,
   * whose platform binary must match Lambda (linux-arm64), not this machine. esbuild leaves them as imports.
   */
  installed: string[];
  /** Directories copied next to the bundle: [source relative to the repo root, destination inside the bundle]. */
  copies: [string, string][];
}

/**
 * Where the render bundle keeps its fonts. lib/charts/fonts.ts looks for `fonts/` beside the bundle's module
 * (`/var/task/fonts` on Lambda), so no configuration is needed to find them.
 */
export const BUNDLED_FONT_DIR = 'fonts';

/** Files of assets/fonts that the renderer needs: the TTFs, the fontconfig file, and the font licence. */
export const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'fonts.conf', 'LICENSE'];

export const FUNCTION_BUNDLES = {
  ingest: { entry: 'lambdas/ingest/handler.ts', installed: [], copies: [] },
  render: {
    entry: 'lambdas/render/handler.ts',
    // sharp draws the graphs; DuckDB (`@duckdb/node-api`) is the lake's engine (DESIGN §13). Both load a
    // `.node` addon from a per-platform optional package.
    installed: ['sharp', '@duckdb/node-api'],
    copies: FONT_FILES.map((f): [string, string] => [`assets/fonts/${f}`, `${BUNDLED_FONT_DIR}/${f}`]),
  },
} as const satisfies Record<string, FunctionBundle>;

/**
 * npm settings for installing `installed` packages into a bundle on any build machine: the platform is Lambda's,
 * not the host's, so sharp's optional `@img/sharp-linux-arm64` and `@img/sharp-libvips-linux-arm64`, and
 * DuckDB's `@duckdb/node-bindings-linux-arm64`, are the binaries npm picks (npm 10+ honours `os`/`cpu`/`libc`
 * for optional dependencies; `libc=glibc` leaves out the `-musl` variants, which Lambda's Amazon Linux cannot
 * load). The rest avoids network calls that do not change the result: the npm cache is used when it has the
 * tarballs, no audit, no notices.
 */
export const LAMBDA_NPMRC = [
  'os=linux',
  'cpu=arm64',
  'libc=glibc',
  'prefer-offline=true',
  'audit=false',
  'fund=false',
  'update-notifier=false',
].join('\n');

/**
 * esbuild options for a function bundle, as the stack builds it; `npm run build` and the benchmarks use them
 * so that what they measure is what Lambda runs.
 */
export function esbuildOptions(entry: string, outfile: string, external: readonly string[] = []): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLE_TARGET,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    external: [...external],
    logLevel: 'warning',
  };
}

/** The light sensor client: `push` and `keygen` in one file that needs nothing but Node (DESIGN §10, issue 11). */
export const SENSOR_CLIENT = {
  /** lib/cli/sensor-client.ts exports the commands; the bundle's entry runs them on the process's arguments. */
  module: 'lib/cli/sensor-client.ts',
  file: 'alertgraph-sensor.mjs',
  /** Node 20 is the oldest release a sensor may run (package.json engines). */
  target: 'node20',
  maxBytes: 5 * 1024 * 1024,
} as const;

/**
 * Bundles the sensor client into `outfile`: one ES module, no source map, no external package, runnable as
 * `node alertgraph-sensor.mjs` (or directly, by its shebang) from any directory. Returns the input files
 * esbuild read, so a caller can check that nothing of the admin side came along.
 */
export async function buildSensorClient(outfile: string): Promise<{ bytes: number; inputs: string[] }> {
  const { build } = await import('esbuild');
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const result = await build({
    stdin: {
      contents: `import { sensorMain } from './${SENSOR_CLIENT.module}';\nprocess.exitCode = await sensorMain(process.argv.slice(2));\n`,
      resolveDir: REPO_ROOT,
      sourcefile: 'alertgraph-sensor-entry.ts',
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: SENSOR_CLIENT.target,
    minify: true,
    legalComments: 'none',
    // Everything the client needs is in lib/ or Node itself: a package import would mean a missing node_modules.
    packages: 'bundle',
    banner: { js: '#!/usr/bin/env node' },
    define: { __ALERTGRAPH_VERSION__: JSON.stringify(pkg.version) },
    metafile: true,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
  if (bytes > SENSOR_CLIENT.maxBytes) throw new Error(`${outfile} is ${bytes} bytes, over the ${SENSOR_CLIENT.maxBytes} allowed`);
  const { chmod } = await import('node:fs/promises');
  await chmod(outfile, 0o755);
  return { bytes, inputs: Object.keys(result.metafile.inputs) };
}

/** `npm run build`: bundles each function into dist/<name>/ (no npm install; the CDK bundling does that). */
async function buildAll(outDir: string): Promise<void> {
  const { build } = await import('esbuild');
  for (const [name, bundle] of Object.entries(FUNCTION_BUNDLES) as [string, FunctionBundle][]) {
    const dir = join(outDir, name);
    await rm(dir, { recursive: true, force: true });
    const result = await build({ ...esbuildOptions(join(REPO_ROOT, bundle.entry), join(dir, 'index.mjs'), bundle.installed), metafile: true });
    for (const [from, to] of bundle.copies) {
      await mkdir(join(dir, to, '..'), { recursive: true });
      await cp(join(REPO_ROOT, from), join(dir, to));
    }
    const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
    process.stdout.write(`${name}: ${dir}/index.mjs (${(bytes / 1024).toFixed(0)} KiB with source map)\n`);
  }
  const sensor = join(outDir, SENSOR_CLIENT.file);
  const { bytes } = await buildSensorClient(sensor);
  process.stdout.write(`sensor client: ${sensor} (${(bytes / 1024).toFixed(0)} KiB, Node ≥ 20, no dependencies)\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await buildAll(join(REPO_ROOT, 'dist'));
}
