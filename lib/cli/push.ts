/**
 * `alertgraph push` (DESIGN §10): the sensor side of the CLI. Imports only the client, the signing code and
 * small helpers, so that it bundles into the light sensor client (lib/cli/sensor.ts) without the AWS SDK,
 * the CDK, DuckDB or sharp.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { EXIT, StackUnavailable, UsageError, output, parse, parseDuration, parsePositiveInt, printHelp } from './args.js';
import { createProgress } from '../client/progress.js';
import { emptySummary, isGzipFile, pushLog, SpooledExit, type InputFormat, type PushSummary } from '../client/push.js';
import { quarantineWarning, Spool } from '../client/spool.js';
import { DEFAULT_FLUSH_AFTER_MS, followLog } from '../client/follow.js';
import { privateKeyFromPem } from '../signing/keys.js';
import { readLocalState } from '../local/state.js';

export const PUSH_HELP = `Usage: alertgraph push <file|-> --sensor <id> --key <file> [--endpoint URL] [--format eve|snort|idea|native]
                       [--batch-size 1000] [--retry-for 5m] [--spool-dir DIR] [--json]
       alertgraph push <file> --follow --sensor <id> --key <file> [--heartbeat 5m] [--flush-after 10m]
                       [--checkpoint FILE] [same options as above]

Input: Suricata EVE, Snort 3 alert_json or IDEA records ("Format": "IDEA0", CESNET's Warden), one object per
line, or native alerts — one object per line, or one {"alerts":[…]} document; --format is detected from the first line when not given. A gzip-compressed input (a
rotated eve.json.2.gz) is recognised by its first bytes and decompressed.
Reads the log as a stream and sends it in signed batches of at most --batch-size lines and 4 MiB. Each
batch's Idempotency-Key is derived from its content, so pushing the same log twice counts it once.
Failed sends are retried with exponential backoff and jitter, honouring Retry-After; 400, 401, 409 and 415
are reported and not retried; a batch refused as too large (413) is split in two.
If the endpoint stays unreachable for --retry-for (units s, m, h, d), the unsent batches are written to the
spool (default <data-dir>/spool/<sensor>) and push exits with code 75 (EX_TEMPFAIL): run it again later.
Every push sends the spool first, with the original keys; run it with no file to only drain the spool.
The endpoint defaults to the local stack of --data-dir. Progress goes to stderr (a bar on a terminal);
--json prints only the final summary on stdout. Alert lines the service rejects are counted in "rejected";
the first reasons are printed with their line numbers, and --json lists them all in "rejections".
A damaged spool entry is moved to <spool dir>/quarantine/ with a warning; the rest goes on.

--follow tails a growing file like tail -F (rotation by rename or truncation), sends a partial batch once its
oldest line has waited --flush-after (default 10m: each batch costs the service about the same whatever its
size, so fewer, fuller batches are cheaper; a shorter wait shows alerts sooner and costs more), an empty
heartbeat batch after --heartbeat without other traffic (0: never), spools while the
endpoint is down and keeps reading. Its position is checkpointed atomically (default
<data-dir>/follow/<sensor>.json) so a restart neither re-sends nor misses lines. SIGINT or SIGTERM sends or
spools what was read and exits 0. After a 401 it re-reads --key (key rotation) and spools until it works.

Exit codes: 0 delivered; 1 batches refused (listed), a spool entry quarantined, or an unexpected error;
2 bad command line or key file; 69 no --endpoint and no local stack; 75 endpoint unreachable for
--retry-for, unsent batches spooled (run push again later).`;

/** How many of the service's rejection reasons are printed; `--json` has them all. */
const REJECTIONS_SHOWN = 10;

/** The first rejection reasons, one line each, naming the input's line where it is known. */
export function rejectionLines(summary: PushSummary, file: string | undefined): string[] {
  const name = file === undefined || file === '-' ? 'input' : file;
  const shown = summary.rejections.slice(0, REJECTIONS_SHOWN).map((r) =>
    r.inputLine !== undefined ? `rejected: ${name} line ${r.inputLine}: ${r.reason}` : `rejected: batch ${r.batch.slice(0, 12)}… line ${r.line}: ${r.reason}`);
  const more = summary.rejections.length - shown.length + summary.rejectionsOmitted;
  if (more > 0) shown.push(`(${more} more rejected lines${summary.rejections.length > shown.length ? '; --json lists them' : ''})`);
  return shown;
}

/** The private key of --key, or a usage error that says what is wrong with the file (exit 2, not a raw errno). */
export async function readPrivateKey(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UsageError(`--key ${file}: no such file (create a key with \`alertgraph keygen --out ${file}\`)`);
    if (code === 'EACCES') throw new UsageError(`--key ${file}: permission denied (the key must be readable by the user running push)`);
    if (code === 'EISDIR') throw new UsageError(`--key ${file}: is a directory, not a key file`);
    throw err;
  }
  try {
    return privateKeyFromPem(pem);
  } catch {
    throw new UsageError(`--key ${file}: not an Ed25519 private key in PEM (the file \`alertgraph keygen\` writes)`);
  }
}

export async function cmdPush(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    sensor: { type: 'string' },
    key: { type: 'string' },
    endpoint: { type: 'string' },
    format: { type: 'string' },
    'batch-size': { type: 'string' },
    'retry-for': { type: 'string', default: '5m' },
    'spool-dir': { type: 'string' },
    follow: { type: 'boolean', default: false },
    heartbeat: { type: 'string', default: '5m' },
    'flush-after': { type: 'string' },
    checkpoint: { type: 'string' },
  });
  if (values.help) return printHelp(PUSH_HELP);
  if (!values.sensor) throw new UsageError('--sensor <id> is required');
  if (!values.key) throw new UsageError('--key <file> is required (the private key from `alertgraph keygen`)');
  const format = values.format as InputFormat | undefined;
  if (format !== undefined && !['eve', 'snort', 'idea', 'native'].includes(format)) throw new UsageError('--format must be eve, snort, idea or native');
  const batchSize = parsePositiveInt(values['batch-size'], '--batch-size', 1000, 10_000);
  const retryForMs = parseDuration(values['retry-for'], '--retry-for');
  const heartbeatMs = values.heartbeat.trim() === '0' ? 0 : parseDuration(values.heartbeat, '--heartbeat');
  const flushAfterMs = values['flush-after'] === undefined ? DEFAULT_FLUSH_AFTER_MS : parseDuration(values['flush-after'], '--flush-after');
  const file = positionals[0];
  if (positionals.length > 1) throw new UsageError(`push takes one input, got ${positionals.length}`);
  if (values.follow && (file === undefined || file === '-')) throw new UsageError('--follow needs a file to follow (not stdin)');
  if (values.follow && (await isGzipFile(file!).catch(() => false))) {
    throw new UsageError(`${file} is gzip-compressed: a compressed file does not grow; push it without --follow`);
  }
  if (file !== undefined && file !== '-' && !values.follow) {
    // Checked before the spool is drained: a typo should fail at once, not after minutes of retries.
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) throw new UsageError(`cannot read ${file}: no such file`);
  }
  let endpoint = values.endpoint;
  if (!endpoint) {
    const state = await readLocalState(values['data-dir']);
    if (!state) throw new StackUnavailable(`no --endpoint given and no local stack recorded in "${values['data-dir']}"`);
    endpoint = state.url;
  }
  const keyFile = values.key;
  const privateKey = await readPrivateKey(keyFile);
  const spool = new Spool(values['spool-dir'] ?? join(values['data-dir'], 'spool', values.sensor));
  const out = output(values.json);
  // A compressed file's size says nothing about how much there is to read: no percentage then.
  const totalBytes = file !== undefined && file !== '-' && !(await isGzipFile(file)) ? (await stat(file).catch(() => undefined))?.size : undefined;
  // Progress goes to stderr: a bar on a terminal, a line now and then in a log, nothing for scripts (--json).
  const progressState = { summary: emptySummary(), totalBytes: values.follow ? undefined : totalBytes, startedAt: Date.now() };
  const progress = createProgress({
    mode: values.json ? 'off' : process.stderr.isTTY ? 'bar' : 'lines',
    state: progressState,
    write: (text) => process.stderr.write(text),
    ...(values.follow ? { everyBatches: 1000, everyMs: 10 * 60_000 } : {}),
  });
  const onProgress = (s: PushSummary) => {
    progressState.summary = s;
    progress.update();
  };
  let linesReported = 0;
  const onLineRejected = (where: string, reason: string) => {
    // A log full of bad lines should not bury everything else: the first few, then the count in the summary.
    if (++linesReported <= 20) out.info(`${file ?? 'input'} ${where}: not sent, ${reason}`);
    else if (linesReported === 21) out.info('(further dropped lines are only counted in "rejected")');
  };
  const report = (summary: PushSummary, extra: Record<string, unknown> = {}, note = '') => {
    progress.done();
    const human =
      `${summary.batches} batches: ${summary.accepted} accepted, ${summary.rejected} rejected, ${summary.skipped} skipped, ` +
      `${summary.duplicateBatches} duplicate batches, ${summary.failedBatches} refused, ${summary.spooledBatches} spooled` +
      `${summary.drainedBatches ? ` (${summary.drainedBatches} sent from the spool)` : ''}` +
      `${summary.heartbeats ? `, ${summary.heartbeats} heartbeats` : ''}, ${summary.writeUnits} write units${note}`;
    out.result({ ...summary, ...extra }, human);
    for (const e of summary.errors) out.info(`refused batch ${e.batch}: ${e.status} ${e.code ?? ''} ${e.detail ?? ''}`.trimEnd());
    if (summary.errorsOmitted) out.info(`(${summary.errorsOmitted} more refused batches not listed)`);
    for (const line of rejectionLines(summary, file)) out.info(line);
  };
  const onQuarantined = (q: Parameters<typeof quarantineWarning>[0]) => out.info(`alertgraph push: warning: ${quarantineWarning(q)}`);
  const common = { endpoint, sensor: values.sensor, privateKey, format, batchSize, retryForMs, spool, onProgress, onLineRejected, onQuarantined };

  if (values.follow) {
    const stop = new AbortController();
    const onSignal = (signal: string) => {
      out.info(`push --follow: ${signal}, sending or spooling what was read, then stopping (again to force)`);
      stop.abort();
    };
    // `once`: a second Ctrl-C finds no handler and ends the process the default way.
    const onInt = () => onSignal('SIGINT');
    const onTerm = () => onSignal('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    try {
      const summary = await followLog({
        ...common,
        path: file!,
        checkpointFile: values.checkpoint ?? join(values['data-dir'], 'follow', `${values.sensor}.json`),
        flushAfterMs,
        heartbeatMs,
        signal: stop.signal,
        reloadKey: async () => privateKeyFromPem(await readFile(keyFile, 'utf8')),
        log: (line) => out.info(`push --follow: ${line}`),
      });
      const pending = (await spool.list()).length;
      report(summary, { spoolDir: spool.dir, spoolPending: pending }, pending ? `; ${pending} batches wait in ${spool.dir}` : '');
      // A stop on request is a clean exit even with batches spooled: the next run sends them first.
      return EXIT.ok;
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
  }

  const input = file === undefined ? undefined : file === '-' ? process.stdin : file;
  try {
    const summary = await pushLog(input, common);
    report(summary);
    return summary.failedBatches > 0 || summary.quarantined.length > 0 ? EXIT.failure : EXIT.ok;
  } catch (err) {
    if (err instanceof SpooledExit) {
      report(err.summary, { spoolDir: spool.dir }, `\n${err.message}: ${spool.dir}`);
      return EXIT.tempfail;
    }
    throw err;
  }
}

