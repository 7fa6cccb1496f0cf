/**
 * `npm run bench [-- --input FILE --out FILE --quick --national --no-history --only SECTION,…]`: the performance figures of alertgraph,
 * measured side by side in one run on this machine, printed as a table and written as JSON (default
 * bench/results.json). `--national` adds the synthetic national day of the lake (14.4 M alerts, several
 * minutes); without it, the national figures of the previous results file are kept, marked as carried over.
 * `--only ingest,bundle` (sections: ingest, flood, lake, bundle, render, memory) measures just those and writes them
 * into the previous results file, whose other sections are kept as they were (`partialRuns` says which
 * sections which run measured); the cost model needs the ingest section. `--no-history` leaves out the lake's
 * 190-day history (kept from the results file, marked as carried over).
 * Every figure is a median over repeated runs; every ratio compares two things measured in the same run.
 * Loopback only: DynamoDB Local, s3rver, `alertgraph dev` and a headless Chromium, all on 127.0.0.1.
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, FONT_FILES } from '../lib/build/bundle.js';
import { pushLog } from '../lib/client/push.js';
import { Spool } from '../lib/client/spool.js';
import { localDynamoClient } from '../lib/local/aws-clients.js';
import { startDynamoDbLocal } from '../lib/local/emulators/dynamodb-local.js';
import { startS3Local } from '../lib/local/emulators/s3.js';
import { generateSensorKeyPair, privateKeyFromPem } from '../lib/signing/keys.js';
import { DynamoSensorRegistry } from '../lib/store/registry.js';
import { benchBundles } from './bundle.js';
import { usdPerMillionAlerts } from './cost.js';
import { generateEveLog } from './eve-gen.js';
import { benchFlood } from './flood.js';
import { benchIngest } from './ingest.js';
import { benchFollow } from './follow.js';
import { benchLakeClose, benchNationalDay, previousNational } from './lake.js';
import { benchHistory } from './history.js';
import { startDev } from './dev.js';
import { shiftLog, shiftLogTo } from './shift-log.js';
import { argValue, median, round, sampleTreePeak } from './stats.js';

const run = promisify(execFile);
const arg = argValue;
const quick = process.argv.includes('--quick');
const outFile = arg('--out') ?? join(REPO_ROOT, 'bench', 'results.json');
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
const SECTIONS = ['ingest', 'flood', 'lake', 'bundle', 'render', 'memory'] as const;
const only = arg('--only')?.split(',').map((s) => s.trim()).filter(Boolean);
for (const s of only ?? []) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only: unknown section ${s} (one of ${SECTIONS.join(', ')})`);
const want = (section: (typeof SECTIONS)[number]) => only === undefined || only.includes(section);

async function childJson(args: string[], opts: { sampleMemory?: boolean } = {}): Promise<{ json: Record<string, unknown>; peakTreeMb?: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const sampler = opts.sampleMemory ? sampleTreePeak(child.pid!) : undefined;
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const peakTreeMb = sampler?.stop();
  if (code !== 0) throw new Error(`${args.join(' ')} exited with ${code}`);
  return { json: JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>, peakTreeMb };
}


/** End to end: four sensors push their share of the alerts at once through HTTP, signatures and DynamoDB Local. */
async function alertsPerSecond(alertFile: string, work: string): Promise<{ alertsPerSecond: number; alerts: number; seconds: number }> {
  const dataDir = join(work, 'dev');
  const dev = await startDev(dataDir);
  try {
    const registry = new DynamoSensorRegistry(localDynamoClient(dev.dynamoEndpoint), 'alertgraph');
    const lines = (await readFile(alertFile, 'utf8')).split('\n').filter(Boolean);
    const shares = 4;
    const files: string[] = [];
    const keys: ReturnType<typeof privateKeyFromPem>[] = [];
    for (let i = 0; i < shares; i++) {
      const pair = generateSensorKeyPair();
      await registry.putSensor({ id: `bench-${i}`, publicKey: pair.publicKey, name: `bench ${i}`, deployedAt: '2020-01-01', status: 'active', createdAt: new Date().toISOString() });
      keys.push(privateKeyFromPem(pair.privateKeyPem));
      const file = join(work, `share-${i}.json`);
      await writeFile(file, `${lines.filter((_, k) => k % shares === i).join('\n')}\n`);
      files.push(file);
    }
    const t = performance.now();
    const summaries = await Promise.all(
      files.map((file, i) =>
        pushLog(file, { endpoint: dev.url, sensor: `bench-${i}`, privateKey: keys[i]!, batchSize: 1000, retryForMs: 60_000, spool: new Spool(join(work, `spool-${i}`)) }),
      ),
    );
    const seconds = (performance.now() - t) / 1000;
    const alerts = summaries.reduce((n, s) => n + s.accepted, 0);
    return { alertsPerSecond: round(alerts / seconds, 0), alerts, seconds: round(seconds) };
  } finally {
    await dev.stop();
  }
}

/** The render function's bundle in a fresh process, against the emulators, from process start to exit. */
async function coldRenderJob(work: string, env: Record<string, string>, runs: number): Promise<number> {
  const { build } = await import('esbuild');
  const { esbuildOptions, FUNCTION_BUNDLES, BUNDLED_FONT_DIR } = await import('../lib/build/bundle.js');
  // Inside the repository, so that the installed `sharp` resolves from its node_modules.
  const dir = join(REPO_ROOT, 'bench', '.work', 'render');
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, BUNDLED_FONT_DIR), { recursive: true });
  await build(esbuildOptions(join(REPO_ROOT, FUNCTION_BUNDLES.render.entry), join(dir, 'index.mjs'), FUNCTION_BUNDLES.render.installed));
  for (const f of FONT_FILES) await cp(join(REPO_ROOT, 'assets', 'fonts', f), join(dir, BUNDLED_FONT_DIR, f));
  const script = `const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))}); await handler({});`;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await run(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, cwd: work });
    times.push(performance.now() - t);
  }
  return round(median(times), 0);
}

/** The lake: one day's close against the engine floor, the 190-day history, the national day (with --national). */
async function lakeSection(s3Endpoint: string, work: string): Promise<Record<string, unknown>> {
  log('lake: the daily close against one warm engine query (1 M alerts)');
  const lakeDay = await benchLakeClose({ s3Endpoint, work, runs: 3, floorRuns: 5 });
  // The history's renders before the national day: after it, the machine is still busy with its gigabytes
  // for a while (measured: the first render took 23.0 s right after it, 16.3 s alone).
  let history: unknown;
  if (process.argv.includes('--no-history')) {
    const previous = (JSON.parse(await readFile(outFile, 'utf8').catch(() => '{}')) as { lake?: { history?: Record<string, unknown> } }).lake?.history;
    history = previous ? { ...previous, carriedOver: 'not measured in this run (--no-history)' } : null;
  } else {
    log('lake: first and second render of a 190-day, 9-sensor history (~450k alerts) through push and the CLI');
    history = await benchHistory(work, quick ? { days: 30 } : {});
  }
  let national: Record<string, unknown> | undefined;
  if (process.argv.includes('--national')) {
    log('lake: synthetic national day (14.4 M alerts, 100 sensors)');
    national = { ...(await benchNationalDay({ s3Endpoint, work })) };
  } else {
    const previous = await previousNational(outFile);
    if (previous) national = { ...previous, carriedOver: `not measured in this run: figures of the --national run at ${previous.measuredAt}` };
  }
  return { ...lakeDay, nationalDayCloseMs: national?.nationalDayCloseMs ?? null, national: national ?? null, history };
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = await mkdtemp(join(tmpdir(), 'alertgraph-bench-'));
  const results: Record<string, any> = {
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: round(totalmem() / 1024 ** 3, 1), node: process.version },
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    startedAt: new Date(started).toISOString(),
  };
  const dynamo = await startDynamoDbLocal({});
  const s3 = await startS3Local({});
  try {
    // Input: a real log moved to recent days, or a generated one.
    let input = arg('--input');
    if (!input) {
      input = join(work, 'generated.json');
      const gen = await generateEveLog(input, { alerts: quick ? 5_000 : 20_000, days: 3 });
      log(`generated ${gen.alerts} alerts in ${gen.lines} lines`);
    }
    // Live: the log ends a minute ago, as a sensor sends it. Backfill: moved by whole days to end yesterday.
    const live = join(work, 'live.json');
    const backfill = join(work, 'backfill.json');
    const liveShiftMs = await shiftLogTo(input, live, Date.now() - 60_000);
    const days = await shiftLog(input, backfill, new Date(Date.now() - 86_400_000).toISOString().slice(0, 10));
    log(`input ${input}: live copy moved by ${round(liveShiftMs / 86_400_000, 2)} days, backfill copy by ${days} days`);
    results.input = { file: input, liveShiftDays: round(liveShiftMs / 86_400_000, 3), backfillShiftDays: days };
    let ingest: Awaited<ReturnType<typeof benchIngest>> | undefined;
    if (want('ingest')) {
      log('ingest: write units, read units, CPU');
      ingest = await benchIngest({ liveInput: live, backfillInput: backfill, dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, runs: 3 });
      const alertFile = join(work, 'alerts-only.json');
      await writeFile(alertFile, `${(await readFile(live, 'utf8')).split('\n').filter((l) => l.includes('"event_type":"alert"')).join('\n')}\n`);
      log('ingest: end to end against dev');
      const e2e = await alertsPerSecond(alertFile, work);
      log('ingest: push --follow with its defaults, a live sensor at one alert a second (simulated clock)');
      const follow = await benchFollow({ dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, work, hours: quick ? 1 : 4 });
      results.ingest = { ...ingest, alertsPerSecond: e2e.alertsPerSecond, endToEnd: e2e, ...follow };
    }

    if (want('flood')) {
      log('flood: one honest sensor at 4 batches/s, alone and under at least 200 junk requests/s from another process');
      results.flood = await benchFlood({ dynamoEndpoint: dynamo.endpoint, s3Endpoint: s3.endpoint, seconds: quick ? 3 : 10 });
    }

    if (want('lake')) results.lake = await lakeSection(s3.endpoint, work);

    if (want('bundle')) {
      log('bundles');
      results.bundle = await benchBundles(join(REPO_ROOT, 'bench', '.work'), quick ? 7 : 15);
    }

    if (want('render')) {
      log('render: ours');
      const renderRuns = quick ? 3 : 5;
      const ours = await childJson(['bench/render-ours.ts', '--runs', String(renderRuns)], { sampleMemory: true });
      const oursMs = median(ours.json.times as number[]);
      let peerMs: number | null = null;
      let peerPeakMb: number | null = null;
      let peerNote: string | undefined;
      if (existsSync('/usr/bin/chromium')) {
        log('render: peer (headless Chromium + vega-embed)');
        const peer = await childJson(['bench/render-peer.ts', '--runs', String(renderRuns)], { sampleMemory: true });
        peerMs = median(peer.json.times as number[]);
        peerPeakMb = peer.peakTreeMb ?? null;
      } else {
        peerNote = 'Chromium not found: install Debian\'s chromium (apt-get install chromium) for the peer figures';
        log(peerNote);
      }
      log('render: cold job');
      const coldEnv = {
        TABLE_NAME: 'alertgraph-cold',
        BUCKET_NAME: 'alertgraph-cold',
        PSEUDONYM_KEY: Buffer.alloc(32, 3).toString('base64'),
        PUBLIC_BASE_URL: 'https://cdn.example',
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        S3_ENDPOINT: s3.endpoint,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      };
      const { ensureBucket, ensureTable } = await import('../lib/local/provision.js');
      const { localS3Client } = await import('../lib/local/aws-clients.js');
      await ensureTable(localDynamoClient(dynamo.endpoint), coldEnv.TABLE_NAME);
      await ensureBucket(localS3Client(s3.endpoint), coldEnv.BUCKET_NAME);
      const coldJobMs = await coldRenderJob(work, coldEnv, quick ? 2 : 3);
      results.render = {
        charts: ours.json.charts,
        history: '3650 days × 50 sensors',
        oursMs: round(oursMs, 0),
        peerMs: peerMs === null ? null : round(peerMs, 0),
        peerOverOurs: peerMs === null ? null : round(peerMs / oursMs),
        oursPeakRssMb: round(ours.peakTreeMb ?? 0, 0),
        peerPeakRssMb: peerPeakMb === null ? null : round(peerPeakMb, 0),
        coldJobMs,
        ...(peerNote ? { note: peerNote } : {}),
      };
    }

    if (want('memory')) {
      const memory: Record<string, unknown> = { renderPeakRssMb: results.render?.oursPeakRssMb ?? null };
      if (existsSync(join(REPO_ROOT, 'bench', 'push-rss.ts'))) {
        log(`memory: push of a ${quick ? '100 MB' : '1 GB'} EVE file`);
        const rssOut = join(work, 'push-rss.json');
        await run(process.execPath, ['--import', 'tsx', 'bench/push-rss.ts', rssOut, '--size-mb', quick ? '100' : '1024'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
        const rss = JSON.parse(await readFile(rssOut, 'utf8')) as { peakRssMiB: number; fileBytes: number; seconds: number; peakRssSource: string };
        memory.pushPeakRssMb = round(rss.peakRssMiB, 0);
        memory.pushFileMb = round(rss.fileBytes / 1024 ** 2, 0);
        memory.pushSeconds = rss.seconds;
        memory.pushPeakRssSource = rss.peakRssSource;
      }
      results.memory = memory;
    }

    if (ingest) {
      const cost = usdPerMillionAlerts({
        alertsPerBatch: 1000,
        writeUnitsPer1000Alerts: ingest.writeUnitsPer1000Alerts,
        ingestMsPerBatch: ingest.handlerMsPerBatch,
        ingestMemoryMb: 512,
        rawBytesPerAlert: ingest.rawBytesPerAlert,
        dynamoBytesPerBatch: ingest.writeUnitsPer1000Alerts * 1024,
        dynamoMonths: 13.5,
        rawMonths: 13.5,
      });
      results.cost = { usdPerMillionAlerts: round(cost.total, 4), parts: Object.fromEntries(Object.entries(cost.parts).map(([k, v]) => [k, round(v, 5)])) };
    }
  } finally {
    await dynamo.stop();
    await s3.stop();
    await rm(work, { recursive: true, force: true });
  }
  results.durationSeconds = round((Date.now() - started) / 1000, 0);
  let written: Record<string, any> = results;
  if (only !== undefined) {
    // A partial run: the measured sections replace the previous file's, the rest stay as they were.
    const previous = existsSync(outFile) ? (JSON.parse(await readFile(outFile, 'utf8')) as Record<string, any>) : {};
    const measured = Object.fromEntries(Object.entries(results).filter(([k]) => (SECTIONS as readonly string[]).includes(k) || k === 'cost'));
    const run = { sections: only, command: results.command, startedAt: results.startedAt, input: results.input, durationSeconds: results.durationSeconds, machine: results.machine };
    written = { ...previous, ...measured, partialRuns: [...(previous.partialRuns ?? []), run] };
  }
  await mkdir(join(outFile, '..'), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(written, null, 2)}\n`);
  printTable({ ...written, machine: results.machine });
  process.stdout.write(`\nwritten to ${outFile}\n`);
}

/** A figure's goal: its text and whether a value meets it. */
type Goal = [text: string, met: (v: number) => boolean];
const atMost = (n: number): Goal => [`goal ≤ ${n.toLocaleString('en')}`, (v) => v <= n];
const below = (n: number): Goal => [`goal < ${n.toLocaleString('en')}`, (v) => v < n];
const atLeast = (n: number): Goal => [`goal ≥ ${n.toLocaleString('en')}`, (v) => v >= n];

function printTable(r: Record<string, any>): void {
  const lake = r.lake ?? {};
  const national = lake.national ?? undefined;
  const phases = (p: any) => (p ? `fetch ${p.fetch} / compact ${p.compact} / figures ${p.figures} / store ${p.store} ms` : '');
  const rows: [string, unknown, string, Goal?][] = [
    ['ingest.writeUnitsPer1000Alerts', r.ingest?.writeUnitsPer1000Alerts, '(batches of 1,000 alerts, log ending now)', atMost(5)],
    ['ingest.writeUnitsPer1000AlertsBackfill', r.ingest?.writeUnitsPer1000AlertsBackfill, 'the same, every day already past'],
    ['ingest.writeUnitsPer1000AlertsMixed', r.ingest?.writeUnitsPer1000AlertsMixed, 'batches of 1,000 lines of the whole log'],
    ['ingest.writeUnitsPer1000AlertsFollow', r.ingest?.writeUnitsPer1000AlertsFollow, 'push --follow defaults, 1 alert/s', atMost(5)],
    ['ingest.writeUnitsPer1000AlertsSparseBackfill', r.ingest?.writeUnitsPer1000AlertsSparseBackfill, `push, 300 alerts/day over 60 past days (cut by count: ${r.ingest?.sparseBackfill?.cutByCountOnly?.writeUnitsPer1000Alerts})`],
    ['ingest.readUnitsPerDayRender', r.ingest?.readUnitsPerDayRender, 'a render that re-rolls and closes one day'],
    ['ingest.cpuPerBatchOverParse', r.ingest?.cpuPerBatchOverParse, 'facts included', atMost(2)],
    ['ingest.factsCpuOverParse', r.ingest?.factsCpuOverParse, 'factsCsv alone, 1,000 alerts, every source new', atMost(0.5)],
    ['ingest.factsCpuOverParseRepeatSources', r.ingest?.factsCpuOverParseRepeatSources, 'the same, sources seen in an earlier batch'],
    ['ingest.alertsPerSecond', r.ingest?.alertsPerSecond, 'end to end against dev, 4 clients'],
    ['flood.honestSlowdown', r.flood?.honestSlowdown, `honest median ${r.flood?.honestQuietMedianMs} → ${r.flood?.honestLoadedMedianMs} ms at ${r.flood?.honestBatchesPerSecond} batches/s; ${r.flood?.honestAccepted}/${r.flood?.honestBatches} accepted`, atMost(2)],
    ['flood.junkPerSecond', r.flood?.junkPerSecond, `junk answered per second, achieved (target ${r.flood?.junkTargetPerSecond}; ${r.flood?.junkAnswered}/${r.flood?.junkSent} answered)`, atLeast(200)],
    ['flood.junkCpuUs', r.flood ? JSON.stringify(r.flood.junkCpuUs) : undefined, 'CPU µs of one refusal: made-up id / bad signature / unsigned'],
    ['lake.closeMs', lake.closeMs, `closeDays, ${lake.alerts?.toLocaleString('en')} alerts in ${lake.stagingObjects?.toLocaleString('en')} objects`],
    ['lake.closePhasesMs', '', phases(lake.phasesMs)],
    ['lake.floorMs', lake.floorMs, 'one warm DuckDB query: distinct, new, per port'],
    ['lake.history.firstRenderMs', lake.history?.firstRenderMs, `alertgraph render, ${lake.history?.days} days × ${lake.history?.sensors} sensors, ${lake.history?.alerts?.toLocaleString('en')} alerts pushed in ${lake.history?.batches} batches`, below(10_000)],
    [
      'lake.history.firstRenderCpuFloorMs',
      lake.history?.firstRenderCpu?.floorMs,
      lake.history?.firstRenderCpu
        ? `CPU ${lake.history.firstRenderCpu.processMs} ms (render process) + ${lake.history.firstRenderCpu.localStackMs} ms (local stack) over ${lake.history.firstRenderCpu.cores} cores: the first render's least wall time here`
        : '',
    ],
    [
      'lake.history.firstRenderCpuPhasesMs',
      '',
      Object.entries(lake.history?.firstRenderCpu?.phases ?? {})
        .map(([phase, ms]) => `${phase} ${ms}`)
        .join(' / '),
    ],
    ['lake.history.secondRenderMs', lake.history?.secondRenderMs, 'the same, nothing new', below(3_000)],
    ['lake.history.reportMs', lake.history?.reportMs, 'alertgraph report --json over the whole history', below(5_000)],
    ['lake.closeOverEngineFloor', lake.closeOverEngineFloor, '', atMost(3)],
    [
      'lake.nationalDayCloseMs',
      lake.nationalDayCloseMs,
      national ? `${national.alerts?.toLocaleString('en')} alerts in ${national.stagingObjects?.toLocaleString('en')} objects${national.carriedOver ? ' (carried over)' : ''}` : 'run with --national',
      below(60_000),
    ],
    ['lake.national.closePhasesMs', '', phases(national?.phasesMs)],
    ['lake.national.closePeakRssMb', national?.closePeakRssMb, 'the close\'s process (Node, SDK, DuckDB)'],
    ['lake.national.projection.totalMs', national?.projection?.totalMs, `144 M alerts/day on 10,240 MB (6 vCPUs); bound: ${national?.projection?.bound ?? 'n/a'}`, below(300_000)],
    ['bundle.ingestBytes', r.bundle?.ingestBytes, ''],
    ['bundle.renderBytes', r.bundle?.renderBytes, 'sharp installed beside it, not bundled'],
    ['bundle.ingestImportOverSdk', r.bundle?.ingestImportOverSdk, '', atMost(1.3)],
    ['render.oursMs', r.render?.oursMs, `${r.render?.charts} charts, ${r.render?.history}`],
    ['render.peerMs', r.render?.peerMs, 'headless Chromium + vega-embed'],
    ['render.peerOverOurs', r.render?.peerOverOurs, '', atLeast(3)],
    ['render.oursPeakRssMb / peer', `${r.render?.oursPeakRssMb} / ${r.render?.peerPeakRssMb}`, `goal: ours lower — ${r.render?.oursPeakRssMb < r.render?.peerPeakRssMb ? 'met' : 'NOT met'}`],
    ['render.coldJobMs', r.render?.coldJobMs, 'bundled render function, fresh process'],
    ['memory.pushPeakRssMb', r.memory?.pushPeakRssMb, `push of a ${r.memory?.pushFileMb} MB file`, below(200)],
    ['memory.renderPeakRssMb', r.memory?.renderPeakRssMb, ''],
    ['cost.usdPerMillionAlerts', r.cost?.usdPerMillionAlerts, 'per-alert part of the monthly model'],
  ];
  process.stdout.write(`\nalertgraph bench — ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB, Node ${r.machine.node}\n\n`);
  for (const [name, value, note, goal] of rows) {
    let text = note;
    if (goal) {
      const verdict = typeof value === 'number' ? (goal[1](value) ? 'met' : 'NOT met') : 'not measured';
      text = `${goal[0]} — ${verdict}${note ? `; ${note}` : ''}`;
    }
    process.stdout.write(`${name.padEnd(36)} ${String(value ?? 'n/a').padStart(12)}  ${text}\n`);
  }
  if (national?.projection?.arithmetic) process.stdout.write(`\n144 M alerts/day on the render function: ${national.projection.arithmetic}\n`);
}

await main();
