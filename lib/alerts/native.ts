import { ValidationError } from '../errors.js';
import {
  findForbiddenKey,
  FORBIDDEN_KEYS,
  isJsonObject,
  countOpeners,
  exceedsDepth,
  mayHaveForbiddenKey,
  MAX_DEPTH,
} from './safety.js';
import { parseIsoTime } from './time.js';
import type { Alert, Proto } from './types.js';
import { finishAlert, type BatchCollector, type FieldNames, type ParseContext } from './validate.js';

const NATIVE_FIELDS: FieldNames = {
  srcIp: 'srcIp',
  srcPort: 'srcPort',
  dstIp: 'dstIp',
  dstPort: 'dstPort',
  sigId: 'sigId',
  signature: 'signature',
  category: 'category',
  severity: 'severity',
};

const PROTOS: ReadonlySet<string> = new Set<Proto>(['tcp', 'udp', 'icmp', 'other']);
const SHAPE = 'body must be a JSON object with an "alerts" array';

function malformed(message: string): ValidationError {
  return new ValidationError('malformed_body', message);
}

/** Read one element of `alerts` (DESIGN §5 Alert without `sensor`). Returns the Alert or a rejection reason. */
export function readNativeAlert(o: Record<string, unknown>, ctx: ParseContext): Alert | string {
  const t = o.time;
  if (t === undefined || t === null) return 'missing time';
  if (typeof t !== 'string') return 'invalid time: expected an ISO 8601 string with a UTC offset';
  const time = parseIsoTime(t);
  if (typeof time !== 'number') {
    return time === 'no_offset'
      ? 'time has no UTC offset (ambiguous)'
      : 'invalid time: expected ISO 8601 with a UTC offset';
  }
  const proto = o.proto;
  if (proto === undefined || proto === null) return 'missing proto';
  if (typeof proto !== 'string' || !PROTOS.has(proto)) return 'invalid proto: expected tcp, udp, icmp or other';

  // `sensor`, if present, is ignored: the sensor is whoever signed the request.
  return finishAlert(
    {
      time,
      proto: proto as Proto,
      srcIp: o.srcIp,
      srcPort: o.srcPort,
      dstIp: o.dstIp,
      dstPort: o.dstPort,
      sigId: o.sigId,
      signature: o.signature,
      category: o.category,
      severity: o.severity,
    },
    NATIVE_FIELDS,
    ctx,
  );
}

/**
 * Parse a native `{"alerts":[...]}` body into `out`. Problems with the body as a whole throw
 * ValidationError('malformed_body'); a bad element is rejected with its 1-based index as the line.
 */
export function parseNativeBody(body: string, ctx: ParseContext, out: BatchCollector): void {
  // The JSON heartbeat is `{"alerts":[]}`; a body with nothing (or only whitespace) in it is not JSON at all
  // (DESIGN §4), and taking it for a heartbeat would record a sensor as reporting from a truncated request.
  if (body.trim() === '') throw malformed('body is empty: send {"alerts":[...]}, or {"alerts":[]} for a heartbeat');
  // Scanned before parsing: a body is up to megabytes, and a nesting bomb that size costs far more to parse.
  if (countOpeners(body, MAX_DEPTH) > MAX_DEPTH && exceedsDepth(body)) {
    throw malformed(`nesting too deep (over ${MAX_DEPTH} levels)`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw malformed('body is not valid JSON');
  }
  if (!isJsonObject(doc)) throw malformed(SHAPE);

  const suspicious = mayHaveForbiddenKey(body);
  if (suspicious) {
    for (const key of Object.keys(doc)) {
      if (FORBIDDEN_KEYS.has(key)) throw malformed(`forbidden key ${key}`);
      if (key === 'alerts') continue; // checked per alert below, so one bad alert does not sink the batch
      const nested = findForbiddenKey(doc[key]);
      if (nested !== undefined) throw malformed(`forbidden key ${nested}`);
    }
  }

  const alerts = doc.alerts;
  if (!Array.isArray(alerts)) throw malformed(SHAPE);
  out.checkCount(alerts.length);

  for (let i = 0; i < alerts.length; i++) {
    const item: unknown = alerts[i];
    const line = i + 1;
    if (!isJsonObject(item)) {
      out.reject(line, 'not a JSON object');
      continue;
    }
    if (suspicious) {
      const key = findForbiddenKey(item);
      if (key !== undefined) {
        out.reject(line, `forbidden key ${key}`);
        continue;
      }
    }
    const result = readNativeAlert(item, ctx);
    if (typeof result === 'string') out.reject(line, result);
    else out.accept(result);
  }
}
