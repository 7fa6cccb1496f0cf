/**
 * The operator CLI (DESIGN §10): `alertgraph <command> [options]`. Every command takes --help,
 * --data-dir and --json. Returns the process exit code.
 */
import { readFile, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { EXIT, StackUnavailable, UsageError, output, parse, parseDate, parseDuration } from './args.js';
import type { AdminContext } from './context.js';
import type { RenderReport } from '../render/job.js';
import { PARTNER_INDEX } from '../publish/layout.js';
import { cmdKeygen, KEYGEN_HELP } from './keygen.js';
import { cmdPush, PUSH_HELP } from './push.js';
import { publicKeyFromBase64url } from '../signing/keys.js';
import { ID_PATTERN } from '../store/table.js';
import { jsonLinesLog } from '../log.js';
import { CLOCK_PATTERN, parseWatchedPorts, SETTINGS } from '../settings.js';

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
  partner        add | list | link | links | revoke | reinstate partners and their signed links
  query          run one read-only SQL statement over the alert facts
  report         the period report of the analysts' statistics (sources, ICMP, scans, cohorts, ports)
  warnings       early warnings: surges, new activity, silent sensors

Every command takes --help, --data-dir DIR (default .alertgraph) and --json. The admin commands (sensor,
stats, render, rebuild, partner, query, report) act on the local stack that \`alertgraph dev\` runs for the data
dir, or with --stack NAME on a deployed stack (read from its CloudFormation outputs; AWS credentials needed).

Exit codes: 0 done · 1 failed (some input refused, a batch failed, an error) · 2 usage (a bad option or value,
a refused query) · 69 no stack to act on (no \`alertgraph dev\` running for the data dir, no such deployed stack)
· 75 try again later (push: the endpoint was unreachable, the batches are spooled).`,
  dev: `Usage: alertgraph dev [--port 8787] [--data-dir .alertgraph] [--demo] [--daily-at ${SETTINGS.dailyRenderAt.default}] [--watched-ports ${SETTINGS.watchedPorts.default}]

Starts DynamoDB Local, the S3 emulator, the local API gateway and the local CDN on 127.0.0.1, persisted under
the data dir, and renders the graphs: at start when nothing is published yet, every hour ("today so far"), and
after --daily-at (UTC), when the previous day is closed.
--demo registers three demo sensors and pushes generated alerts when the registry is empty.
Ctrl-C stops everything.`,
  keygen: KEYGEN_HELP,
  sensor: `Usage:
  alertgraph sensor add <id> --public-key <base64url|file> --deployed YYYY-MM-DD [--name N] [--location L]
  alertgraph sensor list [--json]
  alertgraph sensor revoke <id>
  (each also with --stack NAME: the deployed stack's registry)

Acts on the local stack started by \`alertgraph dev\` with the same --data-dir.
Adding an existing id replaces its key and details (key rotation); a revoked sensor is refused within a minute.`,
  push: PUSH_HELP,
  stats: `Usage: alertgraph stats --from YYYY-MM-DD --to YYYY-MM-DD [--json] [--stack NAME]

Daily figures live from the counters: total, per sensor, per protocol, per destination port; distinct and new
source addresses once the day has been closed by the render job (null before).`,
  render: `Usage: alertgraph render [--date YYYY-MM-DD] [--json] [--stack NAME]

Rolls up the days that changed, closes finished days on the alert lake (facts compacted, distinct and new
sources counted by the embedded engine), renders the public and partner graphs and publishes them; closed days without an archive copy (after a
backfill) get one. --date D rebuilds only the archive copy of the closed day D (public/archive/D/…) and leaves
the live graphs as they are; a day not closed yet is refused (exit 2).`,
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
  alertgraph partner links [<id>] [--json]        issued links: id, partner, issuer, issued, expires, revoked
  alertgraph partner revoke <id>                  ends all the partner's links
  alertgraph partner revoke <id> --link <link id> ends that one link; the partner's other links keep working
  alertgraph partner reinstate <id>               a revoked partner's links work again (not those revoked one by one)

Links are CloudFront signed URLs (locally: the same format, checked by the local CDN) that open the partner
area and its images until they expire; revoking a partner ends all its links at once, no one else's. A link's
id (shown by \`partner link --json\` and \`partner links\`) is signed into its URL, so one link can be revoked;
links issued before links carried their id end only with their partner or their expiry.
Every issued link is recorded (partner, issuer, time, expiry, and a revocation of that link).
With --stack <name>, revocations go to the deployed CDN's revocation list first, then to the registry; a
reinstatement goes to the registry first. If a command fails halfway, run it again: it completes the rest.
Errors (exit 2): unknown_partner, unknown_link, link_not_revocable, partner_revoked, partner_exists.`,
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
  let key: ReturnType<typeof publicKeyFromBase64url>;
  try {
    key = publicKeyFromBase64url(text.trim());
  } catch (err) {
    throw new UsageError(`--public-key is not an Ed25519 public key (base64url of 32 bytes, or a file holding one; \`alertgraph keygen\` prints it): ${(err as Error).message}`);
  }
  const raw = key.export({ format: 'jwk' }).x;
  if (typeof raw !== 'string') throw new UsageError('--public-key is not an Ed25519 public key');
  return raw;
}

async function cmdDev(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    port: { type: 'string', default: '8787' },
    demo: { type: 'boolean', default: false },
    'daily-at': { type: 'string', default: SETTINGS.dailyRenderAt.default },
    'watched-ports': { type: 'string' },
  });
  if (values.help) return help('dev');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535, got "${values.port}"`);
  if (!CLOCK_PATTERN.test(values['daily-at'])) throw new UsageError(`--daily-at must be a UTC time HH:MM, got "${values['daily-at']}"`);
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
    settings: { dailyRenderAt: values['daily-at'], ...(watchedPorts !== undefined ? { watchedPorts } : {}) },
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
  // What the command line says is checked before the stack is looked for: a bad key is a usage error, whether or
  // not a stack is running.
  if (action === 'add') {
    if (!id || !ID_PATTERN.test(id)) throw new UsageError('sensor id must be 1–63 chars of a-z, 0-9 and -, starting with a letter or digit');
    if (!values['public-key']) throw new UsageError('--public-key is required');
  }
  const deployedAt = action === 'add' ? parseDate(values.deployed, '--deployed') : '';
  const publicKey = action === 'add' ? await readPublicKey(values['public-key']!) : '';
  const ctx = await (await admin()).adminContext(values['data-dir'], values.stack);
  switch (action) {
    case 'add': {
      if (!id) throw new UsageError('sensor add <id>');
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
  const report = await runRender(ctx, { date }).catch((err: unknown) => {
    if ((err as { code?: string }).code === 'day_not_closed') throw new UsageError((err as Error).message);
    throw err;
  });
  const base = ctx.url;
  output(values.json).result(
    { ...report, url: date ? `${base}/public/archive/${date}/alerts-daily.png` : `${base}/public/alerts-daily.png` },
    date
      ? `rebuilt the archive copy of ${date}: ${base}/public/archive/${date}/alerts-daily.png`
      : `rendered ${report.rolledUp.length} day(s), closed through ${report.closedThrough}, published ${report.published} objects: ${base}/public/index.html`,
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
    link: { type: 'string' },
  });
  const [action, id] = positionals;
  if (values.help || action === undefined) return help('partner');
  if (values.link !== undefined && action !== 'revoke') throw new UsageError(`--link belongs to partner revoke (see alertgraph partner --help)`);
  const out = output(values.json);
  const [{ issuePartnerLink, LinkError }, admin_, { linkSigningKey, edgeRevocationWriter }] = await Promise.all([
    import('../links/partners.js'),
    import('../links/admin.js'),
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
      case 'links': {
        const links = await admin_.listIssuedLinks(ctx.partners, id, Date.now());
        const rows = links.map((l) => ({
          id: l.id,
          partner: l.partner,
          issuer: l.issuer,
          issued: l.issued,
          expires: l.expires,
          revoked: l.revoked ? `yes (${l.revokedBy})` : l.expired ? 'no (expired)' : 'no',
        }));
        out.result({ links }, links.length ? formatTable(['id', 'partner', 'issuer', 'issued', 'expires', 'revoked'], rows) : 'no links issued');
        return EXIT.ok;
      }
      case 'revoke': {
        if (!id) throw new UsageError('partner revoke <id> [--link <link id>]');
        const deps = { registry: ctx.partners, edge: await edgeRevocationWriter(ctx) };
        const at = new Date().toISOString();
        if (values.link !== undefined) {
          const revoked = await admin_.revokeLink(deps, id, values.link, at, userInfo().username);
          out.result(revoked, `revoked link ${revoked.id} of partner ${id}: that link stops working, the partner's other links do not`);
          return EXIT.ok;
        }
        const revoked = await admin_.revokePartner(deps, id, at);
        out.result(revoked, `revoked partner ${id}: all its links stop working`);
        return EXIT.ok;
      }
      case 'reinstate': {
        if (!id) throw new UsageError('partner reinstate <id>');
        const deps = { registry: ctx.partners, edge: await edgeRevocationWriter(ctx) };
        const reinstated = await admin_.reinstatePartner(deps, id, new Date().toISOString());
        out.result(
          reinstated,
          reinstated.wasRevoked
            ? `reinstated partner ${id}: its links work again until they expire, except those revoked one by one`
            : `partner ${id} was active; nothing to reinstate`,
        );
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown partner action "${action}" (add, list, link, links, revoke, reinstate; see alertgraph partner --help)`);
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
      process.stderr.write(`alertgraph ${name}: ${err.message}${err.message.endsWith('?') ? ' ' : '; '}see alertgraph ${name} --help\n`);
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
