import { parseIsoTime } from './time.js';
import type { Alert } from './types.js';
import { isJsonObject } from './safety.js';
import { finishAlert, mapProto, type FieldNames, type ParseContext } from './validate.js';

const EVE_FIELDS: FieldNames = {
  srcIp: 'src_ip',
  srcPort: 'src_port',
  dstIp: 'dest_ip',
  dstPort: 'dest_port',
  sigId: 'alert.signature_id',
  signature: 'alert.signature',
  category: 'alert.category',
  severity: 'alert.severity',
};

/** Marks an EVE record that is valid but not an alert (flow, dns, stats, ...). */
export const NOT_AN_ALERT = null;

/**
 * Read one Suricata EVE record. Returns the Alert, a rejection reason, or NOT_AN_ALERT for the other event
 * types an EVE log interleaves with alerts.
 */
export function readEveRecord(o: Record<string, unknown>, ctx: ParseContext): Alert | string | typeof NOT_AN_ALERT {
  const eventType = o.event_type;
  if (eventType !== 'alert') {
    if (typeof eventType === 'string') return NOT_AN_ALERT;
    return eventType === undefined ? 'missing event_type' : 'invalid event_type: expected a string';
  }

  const ts = o.timestamp;
  if (ts === undefined || ts === null) return 'missing timestamp';
  if (typeof ts !== 'string') return 'invalid timestamp: expected an ISO 8601 string';
  const time = parseIsoTime(ts);
  if (typeof time !== 'number') {
    return time === 'no_offset'
      ? 'timestamp has no UTC offset (ambiguous)'
      : 'invalid timestamp: expected ISO 8601 with a UTC offset';
  }

  const meta = o.alert;
  if (meta !== undefined && meta !== null && !isJsonObject(meta)) return 'invalid alert: expected an object';
  return finishAlert(
    {
      time,
      proto: mapProto(o.proto),
      srcIp: o.src_ip,
      srcPort: o.src_port,
      dstIp: o.dest_ip,
      dstPort: o.dest_port,
      sigId: meta?.signature_id,
      signature: meta?.signature,
      category: meta?.category,
      severity: meta?.severity,
    },
    EVE_FIELDS,
    ctx,
  );
}
