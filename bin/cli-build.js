// The CLI's compiled form, kept in a local cache (node_modules/.cache/alertgraph-cli/) so that a command does not
// compile its TypeScript on every start.
//
// Why: with tsx loading the sources, every module a command imports (ours and the dependencies') passes through
// tsx's loader hooks. Measured on this project's 2-core machine: tsx's registration costs ~0.15 s and doubles
// the import time of Vega (0.2 → 0.4 s) and of the AWS SDK, about half a second per process in all. The render
// job and the tests start many processes.
//
// What: one esbuild bundle of lib/cli/main.ts (our sources only; every package stays an import, resolved from
// the repository's node_modules as before), split so that a command still loads only its own handler. Every
// `import.meta.url` of a source is replaced by that source's own URL, so paths found relative to a module (the
// fonts, the emulators' files, the partner gate's source) are the same as when the sources run directly.
//
// When: the bundle records the sources it was built from (path, size, modification time). A start checks them
// (~150 files, a few milliseconds) and builds again when any changed, so an edited source is never run stale.
// Builds write to a new directory and rename it into place, so processes started together never see half a
// bundle. Whatever fails here (no esbuild, a read-only cache), the caller falls back to tsx.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CACHE = join(REPO, 'node_modules', '.cache', 'alertgraph-cli');
const ENTRY = join(REPO, 'lib', 'cli', 'main.ts');
/** Bumped when the way the bundle is made changes, so older cached bundles are not used. */
const FORMAT = 1;

/** `[path relative to the repo, size, mtimeMs]` of each local source of a bundle. */
function stamp(paths) {
  return paths.map((p) => {
    const s = statSync(join(REPO, p));
    return [p, s.size, s.mtimeMs];
  });
}

function sameStamp(recorded) {
  try {
    const now = stamp(recorded.map(([p]) => p));
    return now.every(([, size, mtime], i) => size === recorded[i][1] && mtime === recorded[i][2]);
  } catch {
    return false; // a source was removed or renamed
  }
}

/** The cached bundle's entry if it is current, else undefined. */
function current() {
  try {
    const { key } = JSON.parse(readFileSync(join(CACHE, 'current.json'), 'utf8'));
    const dir = join(CACHE, key);
    const built = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8'));
    if (built.format !== FORMAT || !sameStamp(built.inputs)) return undefined;
    try {
      const now = new Date();
      utimesSync(dir, now, now); // its last use, for prune()
    } catch {
      /* a read-only cache is still a good one */
    }
    return join(dir, 'main.js');
  } catch {
    return undefined;
  }
}

async function build() {
  const esbuild = await import('esbuild');
  mkdirSync(CACHE, { recursive: true });
  const tmp = join(CACHE, `tmp-${process.pid}-${Date.now()}`);
  // Each source's own URL in place of import.meta.url (a bundle would otherwise give every module its own). A
  // source's stamp is taken before it is read: a source saved during the build then differs from its stamp,
  // and the next start builds again rather than running the older text.
  const readAt = new Map();
  const ownUrl = {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const s = statSync(args.path);
        readAt.set(relative(REPO, args.path), [s.size, s.mtimeMs]);
        const text = readFileSync(args.path, 'utf8');
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)), loader: 'ts' };
      });
    },
  };
  const result = await esbuild.build({
    entryPoints: { main: ENTRY },
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    plugins: [ownUrl],
  });
  const inputs = Object.keys(result.metafile.inputs).map((p) => relative(REPO, join(process.cwd(), p)));
  // Every local input is a .ts source the plugin read (packages are external).
  const recorded = inputs.sort().map((p) => [p, ...readAt.get(p)]);
  const key = createHash('sha256').update(JSON.stringify([FORMAT, recorded])).digest('hex').slice(0, 16);
  writeFileSync(join(tmp, 'inputs.json'), JSON.stringify({ format: FORMAT, inputs: recorded }));
  const dir = join(CACHE, key);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process built the same sources first
  }
  const pointer = join(CACHE, `current-${process.pid}.json`);
  writeFileSync(pointer, JSON.stringify({ key }));
  renameSync(pointer, join(CACHE, 'current.json'));
  prune(key);
  return join(dir, 'main.js');
}

/**
 * Bundles of older sources go a week after their last use: a process started from one loads its chunks when it
 * first needs them (the local stack's first render, hours after its start), so they stay a long while.
 */
function prune(keep) {
  const weekAgo = Date.now() - 7 * 86_400_000;
  for (const name of readdirSync(CACHE)) {
    if (name === keep || name === 'current.json') continue;
    const path = join(CACHE, name);
    try {
      if (statSync(path).mtimeMs < weekAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      /* gone already */
    }
  }
}

/** The URL of the CLI's compiled entry, built first when the sources changed; undefined when it cannot be had. */
export async function compiledCli() {
  if (process.env.ALERTGRAPH_CLI_FROM_SOURCE === '1' || !existsSync(ENTRY)) return undefined;
  try {
    const path = current() ?? (await build());
    return pathToFileURL(path).href;
  } catch {
    return undefined;
  }
}
