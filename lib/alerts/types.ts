/** The normalized alert every input format is turned into (DESIGN §5). */
export type Proto = 'tcp' | 'udp' | 'icmp' | 'other';

export interface Alert {
  /** UTC instant, milliseconds since the epoch. */
  time: number;
  /** Sensor id; always taken from the verified signature, never from the body. */
  sensor: string;
  srcIp: string;
  srcPort?: number;
  dstIp?: string;
  dstPort?: number;
  proto: Proto;
  sigId?: number;
  signature?: string;
  category?: string;
  severity?: number;
}

/** An alert line that failed validation. `line` is 1-based (NDJSON) or the 1-based index in `alerts` (native). */
export interface RejectedAlert {
  line: number;
  reason: string;
}

/**
 * 'eve', 'snort' and 'idea' force one NDJSON dialect; 'ndjson' detects the dialect per line (a sensor may mix
 * them); 'native' is the `{"alerts":[...]}` JSON body.
 */
export type BatchFormat = 'eve' | 'snort' | 'idea' | 'native' | 'ndjson';

/** What a parser returns for one batch body. */
export interface ParsedBatch {
  alerts: Alert[];
  rejected: RejectedAlert[];
  /** Rejected lines in all (the `rejected` list itself is capped). */
  rejectedCount: number;
  /** Lines that are valid JSON objects but not alerts (EVE flow, dns, stats, ...). */
  skipped: number;
}

export interface ParseOptions {
  sensor: string;
  /** Server time (ms since epoch) used for the horizon and future checks. */
  now: number;
  /** Alerts older than this many days are rejected. Default: lib/settings.ts horizonDays. */
  horizonDays?: number;
  /** Alerts more than this many ms in the future are rejected. Default 5 minutes. */
  maxFutureMs?: number;
  /** Maximum number of alerts in one batch; more → ValidationError('too_large'). */
  maxAlerts?: number;
  /** Maximum entries kept in `rejected`. Default 100. */
  maxRejectedListed?: number;
}
