/**
 * The CLI's compiled bundle (bin/cli-build.js): built from the sources, reused while they are unchanged, built
 * again as soon as one changes, and the same program as the sources (paths found from a module's own URL
 * included).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
// @ts-expect-error plain JavaScript module without declarations
const { compiledCli } = (await import('../../bin/cli-build.js')) as { compiledCli: () => Promise<string | undefined> };

describe('the compiled CLI', () => {
  const source = join(REPO, 'lib', 'cli', 'help.ts');
  const { atime, mtime } = statSync(source);
  afterAll(() => utimesSync(source, atime, mtime));

  it('is reused while the sources are unchanged, and rebuilt when one changes', async () => {
    const first = await compiledCli();
    expect(first).toMatch(/node_modules\/\.cache\/alertgraph-cli\/[0-9a-f]{16}\/main\.js$/);
    expect(await compiledCli()).toBe(first);

    // An edit (here only its modification time) makes the bundle stale: the next start builds another.
    utimesSync(source, atime, new Date(mtime.getTime() + 60_000));
    const second = await compiledCli();
    expect(second).not.toBe(first);
    const inputs = JSON.parse(readFileSync(join(fileURLToPath(second!), '..', 'inputs.json'), 'utf8')) as { inputs: [string, number, number][] };
    const recorded = inputs.inputs.find(([p]) => p === 'lib/cli/help.ts');
    expect(recorded?.[2]).toBe(statSync(source).mtimeMs);
  });

  it('runs the same program as the sources, finding files from its modules’ own URLs', async () => {
    const compiled = await run(process.execPath, [join(REPO, 'bin/alertgraph.js'), 'query', '--help'], { env: { ...process.env } });
    const fromSource = await run(process.execPath, [join(REPO, 'bin/alertgraph.js'), 'query', '--help'], {
      env: { ...process.env, ALERTGRAPH_CLI_FROM_SOURCE: '1' },
    });
    expect(compiled.stdout).toBe(fromSource.stdout);
    expect(compiled.stdout).toContain('alertgraph query');

    const url = (await compiledCli())!;
    const bundled = (await import(url)) as Record<string, unknown>;
    expect(typeof bundled.main).toBe('function');

    // Each source that finds files from its own URL (fonts, the emulators' files, the gate's source) has that
    // URL in the bundle, and no chunk is left with an import.meta.url of its own.
    const dir = join(fileURLToPath(url), '..');
    const chunks = readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');
    expect(chunks).not.toContain('import.meta.url');
    const inputs = (JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf8')) as { inputs: [string][] }).inputs.map(([p]) => p);
    const ownUrlUsers = inputs.filter((p) => readFileSync(join(REPO, p), 'utf8').includes('import.meta.url'));
    expect(ownUrlUsers).toEqual(expect.arrayContaining(['lib/charts/fonts.ts', 'lib/local/emulators/dynamodb-local.ts']));
    for (const p of ownUrlUsers) expect(chunks).toContain(JSON.stringify(pathToFileURL(join(REPO, p)).href));
  });
});
