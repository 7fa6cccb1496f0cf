/**
 * The CLI explains itself (issue 11 item 9): usage mistakes are exit 2 with what to do, found before any stack
 * is looked for; `--help` lists the exit codes and `--stack`. No stack runs here: the data dir is empty.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/e2e.js';

let dir: string;
const cli = (...args: string[]) => runCli(dir, args, { timeoutMs: 30_000 });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'alertgraph-usage-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('usage errors', () => {
  it('a typo names the option it was probably meant to be and the help to read', async () => {
    const r = await cli('stats', '--fro', '2026-01-01', '--to', '2026-01-02');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option --fro; did you mean --from? see alertgraph stats --help');
  });

  it('keygen --out --json is exit 2 and writes no file named --json', async () => {
    const r = await cli('keygen', '--out', '--json');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out needs a value, got the option --json');
    expect(existsSync('--json')).toBe(false);
  });

  it('sensor add with a bad key says so, with no stack running', async () => {
    const r = await cli('sensor', 'add', 'edge-9', '--public-key', 'not-a-key', '--deployed', '2026-01-01');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--public-key is not an Ed25519 public key');
    expect(r.stderr).not.toContain('no local stack');
  });

  it('--help lists the exit codes and --stack', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const code of ['0 done', '1 failed', '2 usage', '69 no stack', '75 try again later']) expect(r.stdout).toContain(code);
    expect(r.stdout).toContain('--stack NAME');
    for (const command of ['stats', 'render', 'sensor']) expect((await cli(command, '--help')).stdout).toContain('--stack NAME');
  });
});
