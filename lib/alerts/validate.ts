import { ValidationError } from '../errors.js';
import { SETTINGS } from '../settings.js';
import { makeIpNormalizer } from './ip.js';
import type { Alert, ParseOptions, ParsedBatch, Proto } from './types.js';

export const DEFAULT_HORIZON_DAYS = SETTINGS.horizonDays.default;
export const DEFAULT_MAX_FUTURE_MS = 5 * 60_000;
export const DEFAULT_MAX_ALERTS = SETTINGS.maxAlertsPerBatch.default;
export const DEFAULT_MAX_REJECTED_LISTED = 100;
/** Signature and category texts are labels on a chart; longer ones are truncated, not rejected. */
export const MAX_TEXT_LENGTH = 256;

/** Everything a format reader needs for one batch: limits resolved once, plus per-batch memos. */
export interface ParseContext {
  sensor: string;
  oldest: number;
  latest: number;
  tooOldReason: string;
  tooNewReason: string;
  normalizeIp: (ip: string) => string | undefined;
}

export function makeContext(opts: ParseOptions): ParseContext {
  const horizonDays = opts.horizonDays ?? DEFAULT_HORIZON_DAYS;
  const maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
  return {
    sensor: opts.sensor,
    oldest: opts.now - horizonDays * 86_400_000,
    latest: opts.now + maxFutureMs,
    tooOldReason: `older than the ${horizonDays}-day horizon`,
    tooNewReason: `more than ${describeDuration(maxFutureMs)} in the future`,
    normalizeIp: makeIpNormalizer(),
  };
}

function describeDuration(ms: number): string {
  if (ms % 60_000 === 0) return ms === 60_000 ? '1 minute' : `${ms / 60_000} minutes`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/** Accumulates one batch's outcome and enforces the per-batch alert cap as it goes. */
export class BatchCollector {
  readonly alerts: Alert[] = [];
  readonly rejected: ParsedBatch['rejected'] = [];
  rejectedCount = 0;
  skipped = 0;
  private readonly maxAlerts: number;
  private readonly maxListed: number;

  constructor(opts: ParseOptions) {
    this.maxAlerts = opts.maxAlerts ?? DEFAULT_MAX_ALERTS;
    this.maxListed = opts.maxRejectedListed ?? DEFAULT_MAX_REJECTED_LISTED;
  }

  accept(alert: Alert): void {
    this.alerts.push(alert);
    this.checkCap();
  }

  reject(line: number, reason: string): void {
    this.rejectedCount++;
    if (this.rejected.length < this.maxListed) this.rejected.push({ line, reason });
    this.checkCap();
  }

  skip(): void {
    this.skipped++;
  }

  /** Throws too_large if `count` alert entries would not fit in one batch. */
  checkCount(count: number): void {
    if (count > this.maxAlerts) {
      throw new ValidationError('too_large', `batch has more than ${this.maxAlerts} alerts; split it`, {
        maxAlerts: this.maxAlerts,
      });
    }
  }

  result(): ParsedBatch {
    return { alerts: this.alerts, rejected: this.rejected, rejectedCount: this.rejectedCount, skipped: this.skipped };
  }

  // Rejected alert lines count too: they are alerts the sensor sent, and the cap bounds per-batch work.
  private checkCap(): void {
    this.checkCount(this.alerts.length + this.rejectedCount);
  }
}

/** Map a protocol as IDSs write it (name or IANA number, string or number) to the four we count. */
export function mapProto(value: unknown): Proto {
  if (typeof value === 'string') {
    switch (value.toLowerCase()) {
      case 'tcp':
      case '6':
        return 'tcp';
      case 'udp':
      case '17':
        return 'udp';
      case 'icmp':
      case 'icmpv6':
      case 'icmp6':
      case 'ipv6-icmp':
      case '1':
      case '58':
        return 'icmp';
      default:
        return 'other';
    }
  }
  if (typeof value === 'number') {
    if (value === 6) return 'tcp';
    if (value === 17) return 'udp';
    if (value === 1 || value === 58) return 'icmp';
  }
  return 'other';
}

/** Source field names, so a rejection reason names the field the sensor actually wrote. */
export interface FieldNames {
  srcIp: string;
  srcPort: string;
  dstIp: string;
  dstPort: string;
  sigId: string;
  signature: string;
  category: string;
  severity: string;
}

/** Values read from one input object, not yet validated (except `time` and `proto`). */
export interface Candidate {
  time: number;
  proto: Proto;
  srcIp: unknown;
  srcPort: unknown;
  dstIp: unknown;
  dstPort: unknown;
  sigId: unknown;
  signature: unknown;
  category: unknown;
  severity: unknown;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65_535;
}

/** Cut at MAX_TEXT_LENGTH UTF-16 units without leaving half of a surrogate pair behind. */
export function clipText(s: string): string {
  if (s.length <= MAX_TEXT_LENGTH) return s;
  const last = s.charCodeAt(MAX_TEXT_LENGTH - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? MAX_TEXT_LENGTH - 1 : MAX_TEXT_LENGTH);
}

/**
 * Validate a candidate and build the normalized Alert, or return the reason it is rejected. `null` and a
 * missing field mean the same (absent). The Alert is built field by field: nothing from the input object is
 * copied wholesale.
 */
export function finishAlert(c: Candidate, names: FieldNames, ctx: ParseContext): Alert | string {
  if (!Number.isFinite(c.time)) return 'invalid time';
  if (c.time < ctx.oldest) return ctx.tooOldReason;
  if (c.time > ctx.latest) return ctx.tooNewReason;

  if (c.srcIp === undefined || c.srcIp === null) return `missing ${names.srcIp}`;
  const srcIp = typeof c.srcIp === 'string' ? ctx.normalizeIp(c.srcIp) : undefined;
  if (srcIp === undefined) return `invalid ${names.srcIp}: not an IPv4 or IPv6 address`;

  const alert: Alert = { time: c.time, sensor: ctx.sensor, srcIp, proto: c.proto };

  if (c.dstIp !== undefined && c.dstIp !== null) {
    const dstIp = typeof c.dstIp === 'string' ? ctx.normalizeIp(c.dstIp) : undefined;
    if (dstIp === undefined) return `invalid ${names.dstIp}: not an IPv4 or IPv6 address`;
    alert.dstIp = dstIp;
  }

  // ICMP has types and codes, not ports; whatever a sensor puts there is meaningless and dropped.
  if (c.proto !== 'icmp') {
    if (c.srcPort !== undefined && c.srcPort !== null) {
      if (!isPort(c.srcPort)) return `invalid ${names.srcPort}: expected an integer 0-65535`;
      alert.srcPort = c.srcPort;
    }
    if (c.dstPort !== undefined && c.dstPort !== null) {
      if (!isPort(c.dstPort)) return `invalid ${names.dstPort}: expected an integer 0-65535`;
      alert.dstPort = c.dstPort;
    }
  }

  if (c.sigId !== undefined && c.sigId !== null) {
    if (typeof c.sigId !== 'number' || !Number.isSafeInteger(c.sigId) || c.sigId < 0) {
      return `invalid ${names.sigId}: expected a non-negative integer`;
    }
    alert.sigId = c.sigId;
  }
  if (c.signature !== undefined && c.signature !== null) {
    if (typeof c.signature !== 'string') return `invalid ${names.signature}: expected a string`;
    alert.signature = clipText(c.signature);
  }
  if (c.category !== undefined && c.category !== null) {
    if (typeof c.category !== 'string') return `invalid ${names.category}: expected a string`;
    alert.category = clipText(c.category);
  }
  if (c.severity !== undefined && c.severity !== null) {
    if (typeof c.severity !== 'number' || !Number.isInteger(c.severity) || c.severity < 1 || c.severity > 255) {
      return `invalid ${names.severity}: expected an integer 1-255`;
    }
    alert.severity = c.severity;
  }
  return alert;
}
