/**
 * `alertgraph push` (DESIGN §10): the sensor side of the CLI. Imports only the client, the signing code and
 * small helpers, so that it bundles into the light sensor client (lib/cli/sensor-client.ts) without the AWS
 * SDK, the CDK, DuckDB or sharp.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { StackUnavailable } from '../../admin/stack-unavailable.js';
import { EXIT, UsageError, output } from '../args.js';
import type { Handler } from '../commands.js';
import { createProgress } from '../../client/progress.js';
import { emptySummary, isGzipFile, pushLog, SpooledExit, type PushSummary } from '../../client/push.js';
import { quarantineWarning, Spool } from '../../client/spool.js';
import { followLog } from '../../client/follow.js';
import { privateKeyFromPem } from '../../signing/keys.js';
import { readLocalState } from '../../local/state.js';

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

export const handler: Handler<'push'> = async ({ options: values, args }) => {
  const { format, follow } = values;
  const { 'batch-size': batchSize, 'retry-for': retryForMs, heartbeat: heartbeatMs, 'flush-after': flushAfterMs } = values;
  const file = args.file;
  if (follow && (file === undefined || file === '-')) throw new UsageError('--follow needs a file to follow (not stdin)');
  if (follow && (await isGzipFile(file!).catch(() => false))) {
    throw new UsageError(`${file} is gzip-compressed: a compressed file does not grow; push it without --follow`);
  }
  if (file !== undefined && file !== '-' && !follow) {
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
  const progressState = { summary: emptySummary(), totalBytes: follow ? undefined : totalBytes, startedAt: Date.now() };
  const progress = createProgress({
    mode: values.json ? 'off' : process.stderr.isTTY ? 'bar' : 'lines',
    state: progressState,
    write: (text) => process.stderr.write(text),
    ...(follow ? { everyBatches: 1000, everyMs: 10 * 60_000 } : {}),
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

  if (follow) {
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
};
