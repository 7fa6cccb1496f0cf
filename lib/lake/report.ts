/**
 * The period report (DESIGN §14, the shape of eCSIRT.net's final status update): the statistics of
 * lib/lake/statistics.ts over one period, in the JSON shape `alertgraph report --json` prints and the monthly
 * partner report publishes. Engine-neutral: it takes a function that runs one SQL text and returns rows, so
 * the same code runs on DuckDB and on Athena.
 */
import { portClass, serviceName, type PortClass } from '../ports/index.js';
import { daysBetween } from '../util/days.js';
import type { JsonValue } from './engine.js';
import {
  activityQuery,
  allPortsQuery,
  categoriesQuery,
  DEFAULT_COHORTS,
  classifiedWithin,
  materializeStatistics,
  matrixQuery,
  signaturesQuery,
  watchedPortsQuery,
  type StatisticsScope,
  DEFAULT_SCAN_THRESHOLDS,
  headlineQuery,
  icmpSplitQuery,
  perDayQuery,
  portsQuery,
  scansQuery,
  type Cohort,
  type Period,
  type ScanThresholds,
} from './statistics.js';

export type RunSql = (sql: string) => Promise<Record<string, JsonValue>[]>;

/**
 * How the statistics reach the engine: `run` runs one text; `materialize`, when the engine keeps tables
 * (DuckDB), makes the period's classified alerts once so every query reads them instead of classifying again.
 */
export interface StatisticsEngine {
  run: RunSql;
  materialize?: (sql: string) => Promise<void>;
  /**
   * A table the engine already holds of the classified alerts of a longer period (with these thresholds): a
   * period within it is taken from it instead of classified again (the render job's monthly reports of a long
   * history: one classification, not one a month).
   */
  classified?: { table: string; period: Period; thresholds: ScanThresholds };
}

export interface SourceClass {
  sources: number;
  alerts: number;
  /** Unrounded; 0 when the class has no source. */
  alertsPerSource: number;
}

export interface PeriodReport {
  from: string;
  to: string;
  alerts: number;
  sources: number;
  icmpSources: SourceClass;
  otherSources: SourceClass;
  scans: { sources: number; alerts: number };
  largestScan: { alerts: number } | null;
  activity: { minDays: number; maxDays: number | null; sources: number; topPorts: { port: string; alerts: number }[] }[];
  perDay: { date: string; alerts: number; sources: number | null; newSources: number | null; scanAlerts: number; newUnknownSources: number | null }[];
  ports: { port: string; alerts: number; sources: number; class: 'trojan' | 'service' | 'unlisted'; service: string | null }[];
}

export interface ReportOptions {
  thresholds?: ScanThresholds;
  cohorts?: readonly Cohort[];
  /** Whether a day is closed: its sources, new sources and new sources of unknown traffic are known. */
  isClosed: (day: string) => boolean;
}

const TOP_COHORT_PORTS = 14;
const TOP_PORTS = 100;

const num = (v: JsonValue | undefined): number => (typeof v === 'number' ? v : v === null || v === undefined ? 0 : Number(v));

function sourceClass(row: Record<string, JsonValue> | undefined): SourceClass {
  const sources = num(row?.sources);
  const alerts = num(row?.alerts);
  return { sources, alerts, alertsPerSource: sources === 0 ? 0 : alerts / sources };
}

/** Classifies the period's alerts once when the engine can keep them; the scope the queries then read. */
async function prepare(engine: StatisticsEngine, period: Period, t: ScanThresholds): Promise<StatisticsScope> {
  if (!engine.materialize) return { period, thresholds: t };
  const held = engine.classified;
  const within = held && held.period.from <= period.from && held.period.to >= period.to && sameThresholds(held.thresholds, t);
  await engine.materialize(within ? classifiedWithin(held.table, period) : materializeStatistics(period, t));
  return { period, thresholds: t, materialized: true };
}

function sameThresholds(a: ScanThresholds, b: ScanThresholds): boolean {
  return a.minPorts === b.minPorts && a.minDestinations === b.minDestinations;
}

/**
 * The engine with the alerts of `period` classified once, for several reports within it (the render job's
 * window and due months; on a first run every month of the history): each report then takes its rows instead
 * of classifying its own period again. An engine that keeps no tables is returned as it is.
 */
export async function classifyingOnce(engine: StatisticsEngine, period: Period, t: ScanThresholds = DEFAULT_SCAN_THRESHOLDS): Promise<StatisticsEngine> {
  if (!engine.materialize) return engine;
  const table = 'classified_all';
  await engine.materialize(materializeStatistics(period, t, table));
  return { ...engine, classified: { table, period, thresholds: t } };
}

export async function buildPeriodReport(engine: StatisticsEngine, period: Period, opts: ReportOptions): Promise<PeriodReport> {
  const t = opts.thresholds ?? DEFAULT_SCAN_THRESHOLDS;
  return periodReport(engine.run, await prepare(engine, period, t), opts);
}

async function periodReport(run: RunSql, scope: StatisticsScope, opts: ReportOptions): Promise<PeriodReport> {
  const { period } = scope;
  const cohorts = opts.cohorts ?? DEFAULT_COHORTS;
  const [headline, icmp, scans, perDay, ports, activity] = await Promise.all([
    run(headlineQuery(scope)),
    run(icmpSplitQuery(scope)),
    run(scansQuery(scope)),
    run(perDayQuery(scope)),
    run(portsQuery(scope, TOP_PORTS)),
    run(activityQuery(scope, cohorts, TOP_COHORT_PORTS)),
  ]);
  const byDay = new Map(perDay!.map((r) => [String(r.day), r]));
  const scan = scans![0];
  return {
    from: period.from,
    to: period.to,
    alerts: num(headline![0]?.alerts),
    sources: num(headline![0]?.sources),
    icmpSources: sourceClass(icmp!.find((r) => num(r.icmp) === 1)),
    otherSources: sourceClass(icmp!.find((r) => num(r.icmp) === 0)),
    scans: { sources: num(scan?.sources), alerts: num(scan?.alerts) },
    largestScan: num(scan?.sources) > 0 ? { alerts: num(scan?.largest) } : null,
    activity: cohorts.map((c, i) => {
      const rows = activity!.filter((r) => num(r.cohort) === i);
      return {
        minDays: c.minDays,
        maxDays: c.maxDays,
        sources: num(rows.find((r) => r.port === null)?.sources),
        topPorts: rows.filter((r) => r.port !== null).map((r) => ({ port: String(r.port), alerts: num(r.alerts) })),
      };
    }),
    perDay: daysBetween(period.from, period.to).map((date) => {
      const r = byDay.get(date);
      const closed = opts.isClosed(date);
      return {
        date,
        alerts: num(r?.alerts),
        sources: closed ? num(r?.sources) : null,
        newSources: closed ? num(r?.new_sources) : null,
        scanAlerts: num(r?.scan_alerts),
        newUnknownSources: closed ? num(r?.new_unknown_sources) : null,
      };
    }),
    ports: ports!.map((r) => {
      const port = String(r.port);
      return { port, alerts: num(r.alerts), sources: num(r.sources), class: portClass(port), service: serviceName(port) ?? null };
    }),
  };
}

/**
 * What the partner charts of DESIGN §14 show over their window (the last closed days): the period report of
 * the window, plus what the report does not carry — the source × port matrix, watched ports per sensor by
 * ICMP and non-ICMP sources, alerts per port class, signatures and categories. Each chart's JSON is the
 * matching part of this (and so of `report --json` for the same window).
 */
export interface PartnerStatistics {
  report: PeriodReport;
  /** Alerts by source network (/8, /16) and port bin of 1,024 ports (bin 0: ports 0–1023), all and scans. */
  matrix: { srcNet: string; portBin: number; alerts: number; scanAlerts: number }[];
  /** Alerts per sensor and watched port, from ICMP sources and from the others (over the window). */
  watched: { sensor: string; port: string; icmpSources: boolean; alerts: number }[];
  /** Alerts and distinct ports per port class, every port of the window. */
  portClasses: { class: PortClass; alerts: number; ports: number }[];
  /** Top signatures (key: id, or `msg:<text>`) and categories by alerts. */
  signatures: { key: string; name: string; alerts: number }[];
  categories: { category: string; alerts: number }[];
}

const TOP_SIGNATURES = 14;
const TOP_CATEGORIES = 14;

export async function buildPartnerStatistics(
  engine: StatisticsEngine,
  period: Period,
  opts: ReportOptions & { watchedPorts: readonly string[] },
): Promise<PartnerStatistics> {
  const t = opts.thresholds ?? DEFAULT_SCAN_THRESHOLDS;
  const scope = await prepare(engine, period, t);
  const { run } = engine;
  const [report, matrix, watched, ports, signatures, categories] = await Promise.all([
    periodReport(run, scope, opts),
    run(matrixQuery(scope)),
    run(watchedPortsQuery(scope, opts.watchedPorts)),
    run(allPortsQuery(scope)),
    run(signaturesQuery(period, TOP_SIGNATURES)),
    run(categoriesQuery(period, TOP_CATEGORIES)),
  ]);
  const classes = new Map<PortClass, { alerts: number; ports: number }>([
    ['trojan', { alerts: 0, ports: 0 }],
    ['service', { alerts: 0, ports: 0 }],
    ['unlisted', { alerts: 0, ports: 0 }],
  ]);
  for (const r of ports) {
    const c = classes.get(portClass(String(r.port)))!;
    c.alerts += num(r.alerts);
    c.ports++;
  }
  return {
    report,
    matrix: matrix
      .map((r) => ({ srcNet: String(r.src_net), portBin: num(r.port_bin), alerts: num(r.alerts), scanAlerts: num(r.scan_alerts) }))
      .sort((a, b) => a.srcNet.localeCompare(b.srcNet) || a.portBin - b.portBin),
    watched: watched
      .map((r) => ({ sensor: String(r.sensor), port: String(r.port), icmpSources: num(r.icmp) === 1, alerts: num(r.alerts) }))
      .sort((a, b) => a.sensor.localeCompare(b.sensor) || a.port.localeCompare(b.port) || Number(a.icmpSources) - Number(b.icmpSources)),
    portClasses: [...classes].map(([c, v]) => ({ class: c, ...v })),
    signatures: signatures.map((r) => ({ key: String(r.sig), name: String(r.name ?? r.sig), alerts: num(r.alerts) })),
    categories: categories.map((r) => ({ category: String(r.category), alerts: num(r.alerts) })),
  };
}
