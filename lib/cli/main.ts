/**
 * The operator CLI (DESIGN §10): `alertgraph <command> [options]`. Every command takes --help,
 * --data-dir and --json. Returns the process exit code.
 */
import { readFile, writeFile, stat } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { userInfo } from 'node:os';
import { EXIT, StackUnavailable, UsageError, output, parse, parseDate, parseDuration, parsePositiveInt } from './args.js';
import type { AdminContext } from './context.js';
import type { RenderReport } from '../render/job.js';
import { PARTNER_INDEX } from '../publish/layout.js';
import { pushLog, SpooledExit, type InputFormat, type PushSummary } from '../client/push.js';
import { Spool } from '../client/spool.js';
import { generateSensorKeyPair, privateKeyFromPem, publicKeyFromBase64url } from '../signing/keys.js';
import { ID_PATTERN } from '../store/table.js';
import { readLocalState } from '../local/state.js';
import { jsonLinesLog } from '../log.js';
import { parseWatchedPorts } from '../config.js';

/**
 * Admin modules (AWS SDK clients, the render job with Vega and sharp, CloudFormation) are imported inside the
 * commands that use them: `push` runs for months on sensors, and should not carry them in memory.
 */
const admin = () => import('./context.js');

const HELP: Record<string, string> = {
  main: `alertgraph — statistics of intrusion-detection alerts

Usage: alertgraph <command> [options]

Commands:
  dev            run the whole stack on this machine (DynamoDB Local, S3 emulator, gateway)
  keygen         create a sensor's Ed25519 key pair
  sensor         add | list | revoke sensors
  push           send a log (Suricata EVE, Snort 3 alert_json, native) as signed batches
  stats          daily figures, live from the counters
  render         render and publish the graphs now
  rebuild        recompute every statistic from the raw archive, then render
  partner        add | list | link | revoke partners and their signed links
  query          run one read-only SQL statement over the alert facts
  report         the period report of the analysts' statistics (sources, ICMP, scans, cohorts, ports)
  warnings       early warnings: surges, new activity, silent sensors

Every command takes --help, --data-dir DIR (default .alertgraph) and --json.`,
  dev: `Usage: alertgraph dev [--port 8787] [--data-dir .alertgraph] [--demo] [--daily-at 00:30] [--watched-ports tcp/135,udp/137,tcp/445]

Starts DynamoDB Local, the S3 emulator, the local API gateway and the local CDN on 127.0.0.1, persisted under
the data dir, and renders the graphs: at start when nothing is published yet, every hour ("today so far"), and
after --daily-at (UTC), when the previous day is closed.
--demo registers three demo sensors and pushes generated alerts when the registry is empty.
Ctrl-C stops everything.`,
  keygen: `Usage: alertgraph keygen --out <file> [--json]

Writes a new Ed25519 private key (PEM, mode 600) to <file> and prints the public key (base64url, raw 32 bytes)
to register with \`alertgraph sensor add\`.`,
  sensor: `Usage:
  alertgraph sensor add <id> --public-key <base64url|file> --deployed YYYY-MM-DD [--name N] [--location L]
  alertgraph sensor list [--json]
  alertgraph sensor revoke <id>

Acts on the local stack started by \`alertgraph dev\` with the same --data-dir.
Adding an existing id replaces its key and details (key rotation); a revoked sensor is refused within a minute.`,
  push: `Usage: alertgraph push <file|-> --sensor <id> --key <file> [--endpoint URL] [--format eve|snort|idea|native]
                       [--batch-size 1000] [--retry-for 5m] [--spool-dir DIR] [--json]
       alertgraph push <file> --follow --sensor <id> --key <file> [--heartbeat 5m] [--flush-after 5s]
                       [--checkpoint FILE] [same options as above]

Input: Suricata EVE, Snort 3 alert_json or IDEA ("Format": "IDEA0", CESNET's Warden) records, one object per
line, or native alerts — one object per line, or one
{"alerts":[…]} document; --format is detected from the first line when not given.
Reads the log as a stream and sends it in signed batches of at most --batch-size lines and 4 MiB. Each
batch's Idempotency-Key is derived from its content, so pushing the same log twice counts it once.
Failed sends are retried with exponential backoff and jitter, honouring Retry-After; 400, 401, 409 and 415
are reported and not retried; a batch refused as too large (413) is split in two.
If the endpoint stays unreachable for --retry-for (units s, m, h, d), the unsent batches are written to the
spool (default <data-dir>/spool/<sensor>) and push exits with code 75 (EX_TEMPFAIL): run it again later.
Every push sends the spool first, with the original keys; run it with no file to only drain the spool.
The endpoint defaults to the local stack of --data-dir. Progress goes to stderr (a bar on a terminal);
--json prints only the final summary on stdout.

--follow tails a growing file like tail -F (rotation by rename or truncation), sends a partial batch after
--flush-after, an empty heartbeat batch after --heartbeat without other traffic (0: never), spools while the
endpoint is down and keeps reading. Its position is checkpointed atomically (default
<data-dir>/follow/<sensor>.json) so a restart neither re-sends nor misses lines. SIGINT or SIGTERM sends or
spools what was read and exits 0. After a 401 it re-reads --key (key rotation) and spools until it works.`,
  stats: `Usage: alertgraph stats --from YYYY-MM-DD --to YYYY-MM-DD [--json]

Daily figures live from the counters: total, per sensor, per protocol, per destination port; distinct and new
source addresses once the day has been closed by the render job (null before).`,
  render: `Usage: alertgraph render [--date YYYY-MM-DD] [--json]

Rolls up the days that changed, closes finished days on the alert lake (facts compacted, distinct and new
sources counted by the embedded engine), renders the public and partner graphs and publishes them. --date re-renders the graph as of that (past) day.`,
  rebuild: `Usage: alertgraph rebuild [--json] [--stack NAME]

Recomputes every statistic from the raw archive (raw/…): each batch's counters and facts are written again,
the lake's compacted facts and first-seen table are rebuilt, then the whole history is rolled up, closed and
rendered. Safe to run while sensors push. Run it once after upgrading a data dir counted before the lake
existed: it writes the facts that \`query\` and the statistics read.`,
  query: `Usage: alertgraph query "<SQL>" [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json] [--stack NAME]

Runs one read-only SELECT (or WITH … SELECT) over the view \`facts\`: every counted alert, one row each, with
the columns day, time, sensor, src, src_net, src_port, dst, dst_port, proto, sig_id, signature, category,
severity, sig_scan, batch. Source and destination addresses are pseudonyms (keyed HMAC), src_net the IPv4 /8
or IPv6 /16. --from/--to limit \`facts\` to those days (inclusive), which also limits what is read.
Locally the embedded engine (DuckDB) runs it on a copy of the facts; with --stack, Athena runs it on the
compacted facts (days closed by the render job) — in Athena's dialect.
--json prints {"columns":[…],"rows":[{"<column>":value,…}]}, numbers as JSON numbers.
Anything but one read-only statement is refused with exit code 2.

Examples:
  alertgraph query "select day, count(*) as alerts, count(distinct src) as sources from facts group by day order by day"
  alertgraph query "select dst_port, count(*) as n from facts where proto = 'tcp' group by dst_port order by n desc limit 14" --from 2026-11-01`,
  report: `Usage: alertgraph report --from YYYY-MM-DD --to YYYY-MM-DD [--json] [--out report.html] [--stack NAME]

The period report of DESIGN §14, as eCSIRT.net's final status update showed it: alerts and distinct source
addresses; sources that sent ICMP against the others, with alerts per source; scans (a source-day with 20 or
more destination ports or destinations, or a signature that names a scan) and the largest scan; sources by
activity days (1, ≥ 10, ≥ 100) with their top ports; per day alerts, sources, new sources, scan alerts and new
sources of unknown (non-scan) traffic; the top 100 ports with their class and service name.
Sources, new sources and new sources of unknown traffic are null for days not closed yet.
Locally on the embedded engine; with --stack on Athena (compacted, closed days).
--json prints the report document; --out writes it as an HTML page with its charts.`,
  partner: `Usage:
  alertgraph partner add <id> [--name N]
  alertgraph partner list [--json]
  alertgraph partner link <id> [--expires 30d] [--path partners/index.html]   prints the signed URL
  alertgraph partner revoke <id>

Links are CloudFront signed URLs (locally: the same format, checked by the local CDN) that open the partner
area and its images until they expire; revoking a partner ends all its links at once, no one else's.
Every issued link is recorded (partner, issuer, time, expiry).`,
};

function help(name: string): number {
  process.stdout.write(`${HELP[name] ?? HELP.main}\n`);
  return EXIT.ok;
}

async function readPublicKey(value: string): Promise<string> {
  // A value that names an existing file is read; otherwise it is the key itself.
  let text = value;
  try {
    if ((await stat(value)).isFile()) text = (await readFile(value, 'utf8')).trim();
  } catch {
    /* not a file */
  }
  const key = publicKeyFromBase64url(text.trim());
  const raw = key.export({ format: 'jwk' }).x;
  if (typeof raw !== 'string') throw new UsageError('--public-key is not an Ed25519 public key');
  return raw;
}

async function cmdDev(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string', default: '8787' },
    demo: { type: 'boolean', default: false },
    'daily-at': { type: 'string', default: '00:30' },
    'watched-ports': { type: 'string' },
  });
  if (values.help) return help('dev');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535, got "${values.port}"`);
  const dailyAt = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(values['daily-at']);
  if (!dailyAt) throw new UsageError(`--daily-at must be a UTC time HH:MM, got "${values['daily-at']}"`);
  let watchedPorts: string[] | undefined;
  try {
    watchedPorts = values['watched-ports'] === undefined ? undefined : parseWatchedPorts(values['watched-ports'], '--watched-ports');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { startLocalStack } = await import('../local/dev.js');
  const log = jsonLinesLog('alertgraph-dev');
  const stack = await startLocalStack({
    dataDir: values['data-dir'],
    port,
    demo: values.demo,
    log,
    closeAfterMinutes: Number(dailyAt[1]) * 60 + Number(dailyAt[2]),
    watchedPorts,
  });
  process.stdout.write(`alertgraph dev: ${stack.url}  (healthz: ${stack.url}/healthz, data: ${stack.dataDir}) — Ctrl-C to stop\n`);
  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('stopping', { signal });
      stack.stop().then(done, done);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  return EXIT.ok;
}

async function cmdKeygen(argv: string[]): Promise<number> {
  const { values } = parse(argv, { out: { type: 'string' } });
  if (values.help) return help('keygen');
  if (!values.out) throw new UsageError('--out <file> is required');
  const pair = generateSensorKeyPair();
  await writeFile(values.out, pair.privateKeyPem, { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new UsageError(`${values.out} exists; refusing to overwrite a key`);
    throw err;
  });
  output(values.json).result({ publicKey: pair.publicKey, privateKeyFile: resolve(values.out) }, pair.publicKey);
  return EXIT.ok;
}

async function cmdSensor(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'public-key': { type: 'string' },
    name: { type: 'string' },
    location: { type: 'string' },
    deployed: { type: 'string' },
  });
  const [action, id] = positionals;
  if (values.help || action === undefined) return help('sensor');
  const out = output(values.json);
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  switch (action) {
    case 'add': {
      if (!id || !ID_PATTERN.test(id)) throw new UsageError('sensor id must be 1–63 chars of a-z, 0-9 and -, starting with a letter or digit');
      if (!values['public-key']) throw new UsageError('--public-key is required');
      const deployedAt = parseDate(values.deployed, '--deployed');
      const publicKey = await readPublicKey(values['public-key']);
      const existing = await ctx.registry.getSensor(id);
      const profile = {
        id,
        publicKey,
        name: values.name ?? existing?.name ?? id,
        location: values.location ?? existing?.location,
        deployedAt,
        status: 'active' as const,
        createdAt: existing?.createdAt ?? new Date().toISOString(),
      };
      await ctx.registry.putSensor(profile);
      out.result(profile, `${existing ? 'updated' : 'added'} sensor ${id} (deployed ${deployedAt})`);
      return EXIT.ok;
    }
    case 'list': {
      const sensors = await ctx.registry.listSensors();
      out.result(
        { sensors },
        sensors.length === 0
          ? 'no sensors'
          : sensors.map((s) => `${s.id.padEnd(20)} ${s.status.padEnd(8)} deployed ${s.deployedAt}  ${s.name}${s.location ? ` (${s.location})` : ''}`).join('\n'),
      );
      return EXIT.ok;
    }
    case 'revoke': {
      if (!id) throw new UsageError('sensor revoke <id>');
      const at = new Date().toISOString();
      if (!(await ctx.registry.revokeSensor(id, at))) throw new UsageError(`no sensor "${id}"`);
      out.result({ id, status: 'revoked', revokedAt: at }, `revoked sensor ${id}; its batches are refused within a minute`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown sensor action "${action}" (add, list, revoke)`);
  }
}

async function cmdPush(argv: string[]): Promise<number> {
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
    'flush-after': { type: 'string', default: '5s' },
    checkpoint: { type: 'string' },
  });
  if (values.help) return help('push');
  if (!values.sensor) throw new UsageError('--sensor <id> is required');
  if (!values.key) throw new UsageError('--key <file> is required (the private key from `alertgraph keygen`)');
  const format = values.format as InputFormat | undefined;
  if (format !== undefined && !['eve', 'snort', 'idea', 'native'].includes(format)) throw new UsageError('--format must be eve, snort, idea or native');
  const batchSize = parsePositiveInt(values['batch-size'], '--batch-size', 1000, 10_000);
  const retryForMs = parseDuration(values['retry-for'], '--retry-for');
  const heartbeatMs = values.heartbeat.trim() === '0' ? 0 : parseDuration(values.heartbeat, '--heartbeat');
  const flushAfterMs = parseDuration(values['flush-after'], '--flush-after');
  const file = positionals[0];
  if (positionals.length > 1) throw new UsageError(`push takes one input, got ${positionals.length}`);
  if (values.follow && (file === undefined || file === '-')) throw new UsageError('--follow needs a file to follow (not stdin)');
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
  const privateKey = privateKeyFromPem(await readFile(keyFile, 'utf8'));
  const spool = new Spool(values['spool-dir'] ?? join(values['data-dir'], 'spool', values.sensor));
  const out = output(values.json);
  const { createProgress } = await import('../client/progress.js');
  const { emptySummary } = await import('../client/push.js');
  const totalBytes = file !== undefined && file !== '-' ? (await stat(file).catch(() => undefined))?.size : undefined;
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
  };
  const common = { endpoint, sensor: values.sensor, privateKey, format, batchSize, retryForMs, spool, onProgress, onLineRejected };

  if (values.follow) {
    const { followLog } = await import('../client/follow.js');
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
    return summary.failedBatches > 0 ? EXIT.failure : EXIT.ok;
  } catch (err) {
    if (err instanceof SpooledExit) {
      report(err.summary, { spoolDir: spool.dir }, `\n${err.message}: ${spool.dir}`);
      return EXIT.tempfail;
    }
    throw err;
  }
}

async function cmdStats(argv: string[]): Promise<number> {
  const { values } = parse(argv, { from: { type: 'string' }, to: { type: 'string' } });
  if (values.help) return help('stats');
  const from = parseDate(values.from, '--from');
  const to = parseDate(values.to, '--to');
  if (from > to) throw new UsageError('--from is after --to');
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 > 3660) throw new UsageError('at most ten years at a time');
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  const sensors = (await ctx.registry.listSensors()).map((s) => s.id);
  const [{ SummaryStore }, { dailyStats }] = await Promise.all([import('../store/summaries.js'), import('../stats/daily.js')]);
  const summaries = new SummaryStore(ctx.dynamo, ctx.tableName);
  const stats = await dailyStats(ctx.ledger, sensors, from, to, (days) => summaries.settledDays(days));
  output(values.json).result(
    stats,
    stats.days.map((d) => `${d.date}  ${String(d.total).padStart(9)}  ${Object.entries(d.bySensor).map(([s, n]) => `${s}=${n}`).join(' ')}`).join('\n'),
  );
  return EXIT.ok;
}

/** Runs the render job: in this process against the local stack, or by invoking the deployed function. */
async function runRender(ctx: AdminContext, request: { date?: string; all?: boolean }): Promise<RenderReport> {
  if (ctx.stack) return (await import('./stack.js')).invokeRenderFunction(ctx.stack, request);
  const service = await (await admin()).localRenderService(ctx, jsonLinesLog('alertgraph-render', 'warn'));
  return service.run(request);
}

async function cmdRender(argv: string[]): Promise<number> {
  const { values } = parse(argv, { date: { type: 'string' } });
  if (values.help) return help('render');
  const date = values.date === undefined ? undefined : parseDate(values.date, '--date');
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  const report = await runRender(ctx, { date });
  const base = ctx.url;
  output(values.json).result(
    { ...report, url: `${base}/public/alerts-daily.png` },
    `rendered ${report.rolledUp.length} day(s), closed through ${report.closedThrough}, published ${report.published} objects: ${base}/public/index.html`,
  );
  return EXIT.ok;
}

async function cmdRebuild(argv: string[]): Promise<number> {
  const { values } = parse(argv, {});
  if (values.help) return help('rebuild');
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  const [{ rebuildFromArchive, resetLake }, { S3RawArchive }, { S3Lake }] = await Promise.all([
    import('../render/rebuild.js'),
    import('../store/raw-archive.js'),
    import('../lake/store.js'),
  ]);
  const lake = new S3Lake(ctx.s3, ctx.bucketName);
  const rebuilt = await rebuildFromArchive({ archive: new S3RawArchive(ctx.s3, ctx.bucketName), ledger: ctx.ledger, lake, pseudonymKey: await ctx.pseudonymKey() });
  await resetLake(lake);
  const report = await runRender(ctx, { all: true });
  output(values.json).result(
    { ...rebuilt, render: report },
    `rebuilt ${rebuilt.contributions} contributions from ${rebuilt.batches} archived batches (${rebuilt.alerts} alerts)` +
      `${rebuilt.unreadable.length ? `; ${rebuilt.unreadable.length} unreadable: ${rebuilt.unreadable.join(', ')}` : ''}; rendered ${report.rolledUp.length} days`,
  );
  return rebuilt.unreadable.length ? EXIT.failure : EXIT.ok;
}

async function cmdQuery(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { from: { type: 'string' }, to: { type: 'string' } });
  if (values.help) return help('query');
  if (positionals.length !== 1) throw new UsageError('query takes one SQL statement, in quotes');
  const period = {
    from: values.from === undefined ? undefined : parseDate(values.from, '--from'),
    to: values.to === undefined ? undefined : parseDate(values.to, '--to'),
  };
  if (period.from && period.to && period.from > period.to) throw new UsageError('--from is after --to');
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  const [{ QueryError, openFactsSession, runReadOnlyQuery }, { S3Lake }, { DEFAULT_SCRATCH_DIR }] = await Promise.all([
    import('../lake/query.js'),
    import('../lake/store.js'),
    import('../config.js'),
  ]);
  const { lakeCacheDir } = await import('../config.js');
  let result;
  try {
    if (ctx.stack) {
      const [{ runAthenaQuery }, { AthenaClient }, { FACTS_TABLE }] = await Promise.all([
        import('../lake/athena.js'),
        import('@aws-sdk/client-athena'),
        import('../lake/sql.js'),
      ]);
      const target = { workGroup: ctx.stack.outputs.lakeWorkGroup, database: ctx.stack.outputs.lakeDatabase, table: FACTS_TABLE };
      result = await runAthenaQuery(new AthenaClient({}), target, positionals[0]!, period);
    } else {
      const session = await openFactsSession(new S3Lake(ctx.s3, ctx.bucketName, lakeCacheDir()), DEFAULT_SCRATCH_DIR, period);
      try {
        result = await runReadOnlyQuery(session, positionals[0]!);
      } finally {
        await session.close();
      }
    }
  } catch (err) {
    if (err instanceof QueryError) throw new UsageError(`${err.code}: ${err.message}`);
    throw err;
  }
  output(values.json).result(result, formatTable(result.columns, result.rows));
  return EXIT.ok;
}

async function cmdReport(argv: string[]): Promise<number> {
  const { values } = parse(argv, { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } });
  if (values.help) return help('report');
  const period = { from: parseDate(values.from, '--from'), to: parseDate(values.to, '--to') };
  if (period.from > period.to) throw new UsageError('--from is after --to');
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  const [{ buildPeriodReport }, { SummaryStore }] = await Promise.all([import('../lake/report.js'), import('../store/summaries.js')]);
  const summaries = new SummaryStore(ctx.dynamo, ctx.tableName);
  const [state, dirty] = await Promise.all([summaries.getRenderState(), summaries.listDirty()]);
  const reopened = new Set(dirty.map((m) => m.day));
  const isClosed = (day: string) => state.lastClosedDay !== undefined && day <= state.lastClosedDay && !reopened.has(day);
  let report;
  if (ctx.stack) {
    const [{ runAthenaStatement }, { AthenaClient }] = await Promise.all([import('../lake/athena.js'), import('@aws-sdk/client-athena')]);
    const client = new AthenaClient({});
    const target = { workGroup: ctx.stack.outputs.lakeWorkGroup, database: ctx.stack.outputs.lakeDatabase };
    report = await buildPeriodReport({ run: async (sql) => (await runAthenaStatement(client, target, sql)).rows }, period, { isClosed });
  } else {
    const [{ openFactsSession }, { S3Lake }, { DEFAULT_SCRATCH_DIR }] = await Promise.all([
      import('../lake/query.js'),
      import('../lake/store.js'),
      import('../config.js'),
    ]);
    const { lakeCacheDir } = await import('../config.js');
    const session = await openFactsSession(new S3Lake(ctx.s3, ctx.bucketName, lakeCacheDir()), DEFAULT_SCRATCH_DIR, period);
    try {
      report = await buildPeriodReport(session.engine.statistics, period, { isClosed });
    } finally {
      await session.close();
    }
  }
  if (values.out) {
    const { writeReportPage } = await import('../publish/report-page.js');
    await writeReportPage(values.out, report);
  }
  const pct = (n: number, of: number) => (of === 0 ? '0' : ((100 * n) / of).toFixed(1));
  output(values.json).result(
    report,
    [
      `${report.from} … ${report.to}: ${report.alerts} alerts from ${report.sources} source addresses`,
      `ICMP sources: ${report.icmpSources.sources} (${report.icmpSources.alertsPerSource.toFixed(1)} alerts each); ` +
        `other sources: ${report.otherSources.sources} (${report.otherSources.alertsPerSource.toFixed(1)} alerts each)`,
      `scans: ${report.scans.alerts} alerts (${pct(report.scans.alerts, report.alerts)} %) from ${report.scans.sources} sources` +
        (report.largestScan ? `; the largest single source's scan alerts: ${report.largestScan.alerts}` : ''),
      ...report.activity.map((a) => `active on ${a.maxDays === null ? `≥ ${a.minDays}` : a.minDays === a.maxDays ? a.minDays : `${a.minDays}–${a.maxDays}`} day(s): ${a.sources} sources; top ports ${a.topPorts.slice(0, 5).map((p) => p.port).join(', ')}`),
      ...(values.out ? [`written to ${values.out}`] : []),
    ].join('\n'),
  );
  return EXIT.ok;
}

/** Rows as an aligned text table, for a terminal. */
function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (values: string[]) => values.map((v, i) => v.slice(0, 60).padEnd(widths[i]!)).join('  ').trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n') +
    `\n(${rows.length} row${rows.length === 1 ? '' : 's'})`;
}

async function cmdPartner(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    name: { type: 'string' },
    expires: { type: 'string', default: '30d' },
    path: { type: 'string', default: PARTNER_INDEX },
  });
  const [action, id] = positionals;
  if (values.help || action === undefined) return help('partner');
  const out = output(values.json);
  const [{ issuePartnerLink, LinkError }, { linkSigningKey, publishPartnerRevocation }] = await Promise.all([
    import('../links/partners.js'),
    import('./stack.js'),
  ]);
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  try {
    switch (action) {
      case 'add': {
        if (!id) throw new UsageError('partner add <id> [--name N]');
        const partner = await ctx.partners.addPartner({ id, name: values.name });
        out.result(partner, `added partner ${partner.id}`);
        return EXIT.ok;
      }
      case 'list': {
        const partners = await ctx.partners.listPartners();
        out.result({ partners }, partners.length ? partners.map((p) => `${p.id.padEnd(20)} ${p.status.padEnd(8)} ${p.name}`).join('\n') : 'no partners');
        return EXIT.ok;
      }
      case 'link': {
        if (!id) throw new UsageError('partner link <id> [--expires 30d] [--path partners/index.html]');
        const signing = await linkSigningKey(ctx);
        const link = await issuePartnerLink({
          registry: ctx.partners,
          partnerId: id,
          issuer: userInfo().username,
          expiresAt: new Date(Date.now() + parseDuration(values.expires, '--expires')),
          path: values.path,
          baseUrl: ctx.url,
          keyPairId: signing.keyPairId,
          privateKeyPem: signing.privateKeyPem,
        });
        out.result(link, link.url);
        return EXIT.ok;
      }
      case 'revoke': {
        if (!id) throw new UsageError('partner revoke <id>');
        const at = new Date().toISOString();
        if (!(await ctx.partners.revokePartner(id, at))) throw new UsageError(`no partner "${id}"`);
        // On AWS the edge checks revocations in the CloudFront KeyValueStore; locally this does nothing.
        await publishPartnerRevocation(ctx, id, at);
        out.result({ id, status: 'revoked', revokedAt: at }, `revoked partner ${id}: all its links stop working`);
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown partner action "${action}" (add, list, link, revoke)`);
    }
  } catch (err) {
    if (err instanceof LinkError) throw new UsageError(`${err.code}: ${err.message}`);
    throw err;
  }
}

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  dev: cmdDev,
  keygen: cmdKeygen,
  sensor: cmdSensor,
  push: cmdPush,
  stats: cmdStats,
  render: cmdRender,
  rebuild: cmdRebuild,
  partner: cmdPartner,
  query: cmdQuery,
  report: cmdReport,
  warnings: (argv) => import('./warnings.js').then((m) => m.cmdWarnings(argv, () => (process.stdout.write(`${m.WARNINGS_HELP}\n`), EXIT.ok))),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return help('main');
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`alertgraph: unknown command "${name}"\n\n${HELP.main}\n`);
    return EXIT.usage;
  }
  try {
    return await command(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`alertgraph ${name}: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof StackUnavailable) {
      process.stderr.write(`alertgraph ${name}: ${err.message}\n`);
      return EXIT.unavailable;
    }
    process.stderr.write(`alertgraph ${name}: ${(err as Error).message}\n`);
    return EXIT.failure;
  }
}
