/** `alertgraph dev` as a child process on a free loopback port, for the benchmarks that go through it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../lib/build/bundle.js';

export async function startDev(dataDir: string): Promise<{ url: string; dynamoEndpoint: string; pid: number; stop(): Promise<void> }> {
  const dev: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'bin/alertgraph.js'), 'dev', '--port', '0', '--data-dir', dataDir], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const state = JSON.parse(await readFile(join(dataDir, 'stack.json'), 'utf8')) as { url: string; dynamoEndpoint: string };
      if ((await fetch(`${state.url}/healthz`)).ok) {
        return {
          ...state,
          pid: dev.pid!,
          stop: async () => {
            dev.kill('SIGINT');
            await new Promise((r) => dev.once('exit', r));
          },
        };
      }
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || dev.exitCode !== null) throw new Error('dev did not start');
    await new Promise((r) => setTimeout(r, 250));
  }
}
