/**
 * Plain data the render job hands to the chart builders. Dates are UTC days as `YYYY-MM-DD`; nothing here
 * knows about DynamoDB, S3 or the clock, so the same values drive Lambda, the local stack and the tests.
 */

export interface SensorMark {
  id: string;
  name: string;
  /** YYYY-MM-DD (UTC) */
  deployedAt: string;
}

export interface DailyPoint {
  date: string;
  total: number;
  /** false: no sensor reported that day (no data), distinct from a day with 0 alerts */
  reported: boolean;
  /**
   * Scan alerts of the day (DESIGN §14: scan source-days and scan signatures), only once the day is closed and
   * its full figure is known; undefined before.
   */
  scanAlerts?: number;
}

export interface PublicChartData {
  /** ISO instant */
  generatedAt: string;
  /** YYYY-MM-DD (UTC); today's point is partial ("today so far") and must look different */
  today: string;
  /** contiguous, from the first sensor's deployment to today */
  days: DailyPoint[];
  sensors: SensorMark[];
}

/** e.g. key 'tcp/445' */
export interface CountRow {
  key: string;
  count: number;
}

/** Long format for multi-series charts. */
export interface SeriesPoint {
  date: string;
  series: string;
  value: number;
}

export interface PartnerChartData {
  generatedAt: string;
  today: string;
  /** top 14 destination ports of the last closed day */
  topPortsDay: { date: string; rows: CountRow[] };
  /** top 14 over the last 30 days */
  topPortsWindow: { from: string; to: string; rows: CountRow[] };
  /** series = 'tcp/135', 'udp/137', 'tcp/445' (configurable), per day, whole history */
  watchedPorts: SeriesPoint[];
  /** series = sensor name, value = alerts, per day (stacked), whole history */
  perSensor: SeriesPoint[];
  /** series = 'distinct sources' | 'new sources' (days without computed values omitted) */
  sources: SeriesPoint[];
  /** series = 'ICMP' | 'other protocols' */
  icmp: SeriesPoint[];
  /**
   * Closed days with their full scan figure (DESIGN §14), whole history: all alerts and scan alerts. Field names
   * as in the period report's `perDay`, so a window of these equals `report --json`'s.
   */
  scans: ScanDay[];
  /** Closed days: new sources of unknown traffic (sources first seen that day with a non-scan alert). */
  newUnknownSources: NewUnknownDay[];
  sensors: SensorMark[];
}

export interface ScanDay {
  date: string;
  alerts: number;
  scanAlerts: number;
}

export interface NewUnknownDay {
  date: string;
  newUnknownSources: number;
}
