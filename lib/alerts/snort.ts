import { parseIsoTime } from './time.js';
import type { Alert } from './types.js';
import { finishAlert, mapProto, type FieldNames, type ParseContext } from './validate.js';

const SNORT_FIELDS: FieldNames = {
  srcIp: 'src_addr',
  srcPort: 'src_port',
  dstIp: 'dst_addr',
  dstPort: 'dst_port',
  sigId: 'sid',
  signature: 'msg',
  category: 'class',
  severity: 'priority',
};

const ADD_SECONDS = "add 'seconds' to alert_json fields";
/** Snort's default `timestamp`: `11/21-10:00:00.123456`, local time, no year. */
const NO_YEAR = /^\d{1,2}\/\d{1,2}-\d{1,2}:\d{2}:\d{2}(?:\.\d+)?$/;
/** With `-y`: `21/11/22-10:00:00.123456`, a two-digit year but still local time of unknown zone. */
const LOCAL_WITH_YEAR = /^\d{2}\/\d{1,2}\/\d{1,2}-\d{1,2}:\d{2}:\d{2}(?:\.\d+)?$/;

/** The UTC instant of a Snort alert, or the reason there is none. `seconds` (epoch seconds) wins over text. */
function snortTime(o: Record<string, unknown>): number | string {
  const seconds = o.seconds;
  if (seconds !== undefined && seconds !== null) {
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0) {
      return 'invalid seconds: expected a non-negative integer';
    }
    return seconds * 1000;
  }
  const ts = o.timestamp;
  if (ts === undefined || ts === null) return `missing time; ${ADD_SECONDS}`;
  if (typeof ts !== 'string') return `invalid timestamp; ${ADD_SECONDS}`;
  const time = parseIsoTime(ts);
  if (typeof time === 'number') return time;
  if (NO_YEAR.test(ts)) return `timestamp has no year; ${ADD_SECONDS}`;
  if (LOCAL_WITH_YEAR.test(ts) || time === 'no_offset') {
    return `timestamp is local time without a UTC offset (ambiguous); ${ADD_SECONDS}`;
  }
  return `invalid timestamp; ${ADD_SECONDS}`;
}

/** `rule` as Snort 3 writes it: gid:sid:rev. */
const RULE = /^\d+:(\d+):\d+$/;

interface AddrPort {
  addr: string;
  port: number | undefined;
}

/**
 * Split Snort's `src_ap`/`dst_ap` (`"192.0.2.1:80"`, `"[2001:db8::1]:80"`). An unbracketed IPv6 pair such as
 * `2001:db8::1:80` cannot be split (is `:80` the port or the last group?), so it is refused, not guessed.
 */
function splitAddrPort(value: unknown, field: string): AddrPort | string {
  if (typeof value !== 'string') return `invalid ${field}: expected "address:port"`;
  let addr: string;
  let portText: string;
  if (value.startsWith('[')) {
    const close = value.indexOf(']');
    if (close === -1) return `invalid ${field}: expected "address:port"`;
    addr = value.slice(1, close);
    const rest = value.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) return `invalid ${field}: expected "address:port"`;
    portText = rest.slice(1);
  } else {
    const first = value.indexOf(':');
    const last = value.lastIndexOf(':');
    if (first !== last) {
      const addrField = field === 'src_ap' ? 'src_addr' : 'dst_addr';
      return `ambiguous ${field}: an IPv6 address with a port needs brackets; add '${addrField}' to alert_json fields`;
    }
    addr = first === -1 ? value : value.slice(0, first);
    portText = first === -1 ? '' : value.slice(first + 1);
  }
  let port: number | undefined;
  if (portText !== '') {
    if (!/^\d{1,5}$/.test(portText)) return `invalid ${field}: bad port`;
    port = Number(portText);
  }
  return { addr, port };
}

/** Read one Snort 3 `alert_json` record (every record is an alert). Returns the Alert or a rejection reason. */
export function readSnortRecord(o: Record<string, unknown>, ctx: ParseContext): Alert | string {
  const time = snortTime(o);
  if (typeof time === 'string') return time;

  let srcIp = o.src_addr;
  let srcPort = o.src_port;
  if ((srcIp === undefined || srcIp === null) && o.src_ap !== undefined) {
    const ap = splitAddrPort(o.src_ap, 'src_ap');
    if (typeof ap === 'string') return ap;
    srcIp = ap.addr;
    srcPort ??= ap.port;
  }
  let dstIp = o.dst_addr;
  let dstPort = o.dst_port;
  if ((dstIp === undefined || dstIp === null) && o.dst_ap !== undefined) {
    const ap = splitAddrPort(o.dst_ap, 'dst_ap');
    if (typeof ap === 'string') return ap;
    dstIp = ap.addr;
    dstPort ??= ap.port;
  }

  // Snort's default field set has no `sid`, only `rule` as "gid:sid:rev"; take the sid from there. gid is
  // dropped either way: Alert has a single rule-id field, and sid is the number rules are looked up by.
  let sigId = o.sid;
  if ((sigId === undefined || sigId === null) && typeof o.rule === 'string') {
    const m = RULE.exec(o.rule);
    if (m !== null) sigId = Number(m[1]);
  }
  return finishAlert(
    {
      time,
      proto: mapProto(o.proto),
      srcIp,
      srcPort,
      dstIp,
      dstPort,
      sigId,
      signature: o.msg,
      category: o.class,
      severity: o.priority,
    },
    SNORT_FIELDS,
    ctx,
  );
}
