/**
 * IDEA records (the JSON alert format of CESNET's Warden, `"Format": "IDEA0"`) onto the alert model (DESIGN §15).
 *
 * From our reading of the IDEA definition (idea.cesnet.cz): `DetectTime` is the mandatory RFC 3339 time of
 * detection; `Source` and `Target` are lists of objects whose `IP4`/`IP6` are lists of addresses (or of
 * ranges and networks), `Port` a list of integers and `Proto` a list of protocol names from the lowest layer
 * up (`["tcp", "ssh"]`); `Category` is a list of class names (`Recon.Scanning`); `Node` a list of detectors,
 * each with a `Name`; `Description` a short text.
 *
 * One record is one alert: the first Source address is its source, the first Target address (if any) its
 * destination, the first ports and the first protocol of either side its ports and protocol. The categories,
 * joined, are its category; its signature is the Description, or else the categories and the detecting Node's
 * name. IDEA has no rule id, so `sigId` stays empty (the signature text identifies it). A network or range in
 * place of an address is refused: only single addresses are counted. Every rejection names the IDEA field.
 */
import { parseIsoTime } from './time.js';
import type { Alert } from './types.js';
import { finishAlert, mapProto, type ParseContext } from './validate.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An IDEA list field: absent, or a list (a lone value is tolerated, as some producers write one). */
function listOf(v: unknown): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v : [v];
}

interface Endpoint {
  ip?: unknown;
  ipField: string;
  port?: unknown;
  portField: string;
  proto?: unknown;
}

/** The first address, port and protocol of a Source or Target list, with the IDEA path of each. */
function endpoint(list: unknown, name: 'Source' | 'Target'): Endpoint | string {
  const items = listOf(list);
  const out: Endpoint = { ipField: `${name}[0].IP4`, portField: `${name}[0].Port` };
  if (items === undefined) return out;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (!isObject(item)) return `invalid ${name}[${i}]: expected an object`;
    for (const key of ['IP4', 'IP6'] as const) {
      const ips = listOf(item[key]);
      if (out.ip === undefined && ips !== undefined && ips.length > 0) {
        out.ip = ips[0];
        out.ipField = `${name}[${i}].${key}[0]`;
        if (typeof out.ip === 'string' && /[/-]/.test(out.ip)) {
          return `invalid ${out.ipField}: a network or range, not one address (only single addresses are counted)`;
        }
      }
    }
    const ports = listOf(item.Port);
    if (out.port === undefined && ports !== undefined && ports.length > 0) {
      out.port = ports[0];
      out.portField = `${name}[${i}].Port[0]`;
    }
    const protos = listOf(item.Proto);
    if (out.proto === undefined && protos !== undefined && protos.length > 0) {
      if (typeof protos[0] !== 'string') return `invalid ${name}[${i}].Proto[0]: expected a string`;
      out.proto = protos[0];
    }
  }
  return out;
}

function strings(v: unknown, field: string): string[] | string {
  const items = listOf(v);
  if (items === undefined) return [];
  for (let i = 0; i < items.length; i++) if (typeof items[i] !== 'string') return `invalid ${field}[${i}]: expected a string`;
  return items as string[];
}

/** Whether a parsed line is an IDEA record. */
export function isIdeaRecord(value: Record<string, unknown>): boolean {
  return value.Format === 'IDEA0';
}

/** Reads one IDEA record. Returns the Alert or a rejection reason naming the IDEA field. */
export function readIdeaRecord(o: Record<string, unknown>, ctx: ParseContext): Alert | string {
  if (o.Format !== 'IDEA0') return 'not an IDEA record: Format must be "IDEA0"';
  if (o.DetectTime === undefined || o.DetectTime === null) return 'missing DetectTime';
  if (typeof o.DetectTime !== 'string') return 'invalid DetectTime: expected an RFC 3339 date-time';
  const time = parseIsoTime(o.DetectTime);
  if (time === 'no_offset') return 'invalid DetectTime: no time zone (add Z or an offset)';
  if (typeof time !== 'number') return 'invalid DetectTime: expected an RFC 3339 date-time';

  const source = endpoint(o.Source, 'Source');
  if (typeof source === 'string') return source;
  if (source.ip === undefined) return 'missing Source[].IP4 or Source[].IP6';
  const target = endpoint(o.Target, 'Target');
  if (typeof target === 'string') return target;

  const categories = strings(o.Category, 'Category');
  if (typeof categories === 'string') return categories;
  let nodeName: string | undefined;
  const nodes = listOf(o.Node);
  if (nodes !== undefined && nodes.length > 0) {
    if (!isObject(nodes[0])) return 'invalid Node[0]: expected an object';
    const name = nodes[0].Name;
    if (name !== undefined && name !== null && typeof name !== 'string') return 'invalid Node[0].Name: expected a string';
    nodeName = name ?? undefined;
  }
  if (o.Description !== undefined && o.Description !== null && typeof o.Description !== 'string') {
    return 'invalid Description: expected a string';
  }
  const category = categories.length > 0 ? categories.join(', ') : undefined;
  const described = typeof o.Description === 'string' && o.Description.trim() !== '' ? o.Description : undefined;
  const signature = described ?? (category !== undefined ? (nodeName ? `${category} (${nodeName})` : category) : nodeName);

  return finishAlert(
    {
      time,
      proto: mapProto(source.proto ?? target.proto),
      srcIp: source.ip,
      srcPort: source.port,
      dstIp: target.ip,
      dstPort: target.port,
      sigId: undefined,
      signature,
      category,
      severity: undefined,
    },
    {
      srcIp: source.ipField,
      srcPort: source.portField,
      dstIp: target.ipField,
      dstPort: target.portField,
      sigId: 'ID',
      signature: 'Description',
      category: 'Category',
      severity: 'Severity',
    },
    ctx,
  );
}
