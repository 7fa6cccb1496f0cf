/**
 * Shared pieces of the end-to-end tests: the CLI and `alertgraph dev` run as child processes of their own,
 * against a temporary data dir, on 127.0.0.1 only.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { localDynamoClient } from '../../lib/local/aws-clients.js';
import { readLocalState, type LocalStackState } from '../../lib/local/state.js';
import { dailyStats } from '../../lib/stats/daily.js';
import { DynamoBatchLedger } from '../../lib/store/ledger.js';

/** The CLI's entry point, the file `npx alertgraph` runs. */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'alertgraph.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the process after this long (default 90 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs `node <args>` to the end. Never throws: a failure shows in `code` (1 when killed or not started). */
export function runNode(args: readonly string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { timeout: opts.timeoutMs ?? 90_000, env: opts.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `alertgraph <args> --data-dir <dataDir>`; like runNode, never throws on a non-zero exit. */
export function runCli(dataDir: string, args: readonly string[], opts?: RunOptions): Promise<CliResult> {
  return runNode([BIN, ...args, '--data-dir', dataDir], opts);
}

/** Runs the command with `--json` and parses its output; a non-zero exit throws with the command's stderr. */
export async function cliJson<T>(dataDir: string, args: readonly string[], opts?: RunOptions): Promise<T> {
  const r = await runCli(dataDir, [...args, '--json'], opts);
  if (r.code !== 0) throw new Error(`alertgraph ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export interface WaitOptions {
  /** Pause between probes (default 200 ms). */
  everyMs?: number;
  /** Checked before each probe: an error returned here ends the wait at once instead of at the deadline. */
  giveUp?: () => Error | undefined;
}

/**
 * Probes until it returns a value other than undefined, for at most `ms`. A probe that throws counts as
 * "not yet"; its last error is named in the time-out message.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    const fatal = opts.giveUp?.();
    if (fatal) throw fatal;
    const value = await probe().catch((err: unknown) => void (last = err));
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${String(last)})` : ''}`);
}

/** A loopback port that nothing listens on right now (bound, then released): free for `dev`, dead for a client. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface DevProcess {
  /** Where the gateway and the CDN answer. */
  url: string;
  /** What this very process wrote to `<dataDir>/stack.json`. */
  state: LocalStackState;
  proc: ChildProcess;
  /** Its stdout and stderr so far, interleaved. */
  output(): string;
  /** SIGINT (Ctrl-C), then its exit code once it has exited; just the exit code when it already has. */
  stop(): Promise<number | null>;
  /** SIGKILL, then waits for it to be gone; nothing when it already is. */
  kill(): Promise<void>;
}

/**
 * Spawns `alertgraph dev --port <port> --data-dir <dataDir>` (port 0: any free one) and waits until this very
 * process has written stack.json and answers /healthz. Fails at once, with its output, if it exits first;
 * kills it if it is not up within `timeoutMs` (default 60 s).
 */
export async function startDev(dataDir: string, opts: { port?: number; timeoutMs?: number; args?: string[] } = {}): Promise<DevProcess> {
  const args = [BIN, 'dev', '--port', String(opts.port ?? 0), '--data-dir', dataDir, ...(opts.args ?? [])];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (d) => (output += d));
  proc.stderr!.on('data', (d) => (output += d));
  let spawnError: Error | undefined;
  proc.once('error', (err) => (spawnError = err));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const running = () => proc.exitCode === null && proc.signalCode === null;

  let state: LocalStackState;
  try {
    state = await waitFor(
      'dev to answer /healthz',
      async () => {
        const s = await readLocalState(dataDir);
        if (!s || s.pid !== proc.pid) return undefined; // not written yet, or left behind by an earlier dev
        return (await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(5_000) })).ok ? s : undefined;
      },
      opts.timeoutMs ?? 60_000,
      {
        giveUp: () =>
          spawnError ?? (running() ? undefined : new Error(`dev exited early (${proc.exitCode ?? proc.signalCode})`)),
      },
    );
  } catch (err) {
    if (running()) proc.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${output}`);
  }

  return {
    url: state.url,
    state,
    proc,
    output: () => output,
    async stop() {
      if (running()) proc.kill('SIGINT');
      return exited;
    },
    async kill() {
      if (running()) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** Daily figures straight from the counters of the stack running on `dataDir` (cheaper than a CLI process per poll). */
export async function liveDailyStats(dataDir: string, sensors: readonly string[], from: string, to: string): ReturnType<typeof dailyStats> {
  const state = await readLocalState(dataDir);
  if (!state) throw new Error(`no dev stack recorded in ${dataDir}`);
  const client = localDynamoClient(state.dynamoEndpoint);
  try {
    return await dailyStats(new DynamoBatchLedger(client, state.tableName, 400), sensors, from, to);
  } finally {
    client.destroy();
  }
}
