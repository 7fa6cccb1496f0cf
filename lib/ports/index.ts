/**
 * Port classes and registered service names (DESIGN §14). Pure: the two shipped tables are turned into maps once,
 * on import, and every function is a lookup.
 *
 * A port is a key `tcp/<n>` or `udp/<n>` with n in 0..65535, written without leading zeros — the form the
 * lake and the charts use. Anything else (`icmp/0`, `tcp/70000`, `445`, `TCP/445`) has no name and is unlisted.
 */
import { SERVICES_COUNT, SERVICES_SOURCE, TCP_SERVICES, UDP_SERVICES } from './services.js';
import { TROJAN_PORTS, TROJANS_SOURCE, type TrojanPorts } from './trojans.js';

export { SERVICES_COUNT, SERVICES_SOURCE, TROJAN_PORTS, TROJANS_SOURCE, type TrojanPorts };

export type PortClass = 'trojan' | 'service' | 'unlisted';

const PORT_KEY = /^(tcp|udp)\/(0|[1-9]\d{0,4})$/;
const RANGE_KEY = /^(tcp|udp)\/(0|[1-9]\d{0,4})-([1-9]\d{0,4})$/;

/** True for a well-formed `tcp/<n>` or `udp/<n>` key. */
export function isPortKey(port: string): boolean {
  const m = PORT_KEY.exec(port);
  return m !== null && Number(m[2]) <= 65535;
}

function parseServices(proto: 'tcp' | 'udp', table: string): [string, string][] {
  const words = table.trim().split(/\s+/);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < words.length; i += 2) pairs.push([`${proto}/${words[i]}`, words[i + 1]!]);
  return pairs;
}

const services: ReadonlyMap<string, string> = new Map([
  ...parseServices('tcp', TCP_SERVICES),
  ...parseServices('udp', UDP_SERVICES),
]);

/** Every key of a list entry: `tcp/5401-5402` → `tcp/5401`, `tcp/5402`. */
export function expandPorts(entry: string): string[] {
  if (isPortKey(entry)) return [entry];
  const m = RANGE_KEY.exec(entry);
  const [lo, hi] = m ? [Number(m[2]), Number(m[3])] : [NaN, NaN];
  if (!m || !(lo < hi) || hi > 65535) throw new Error(`bad trojan port entry ${entry}`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => `${m[1]}/${lo + i}`);
}

const trojans: ReadonlyMap<string, readonly string[]> = (() => {
  const byPort = new Map<string, string[]>();
  for (const { name, ports } of TROJAN_PORTS) {
    for (const key of ports.flatMap(expandPorts)) {
      const names = byPort.get(key) ?? [];
      if (!names.includes(name)) names.push(name);
      byPort.set(key, names);
    }
  }
  return byPort;
})();

/** The registered service name of a port (`tcp/445` → `microsoft-ds`), or undefined. */
export function serviceName(port: string): string | undefined {
  return services.get(port);
}

/** The trojans/backdoors known to listen on a port; empty when none. */
export function trojanNames(port: string): string[] {
  return [...(trojans.get(port) ?? [])];
}

/** DESIGN §14: `trojan` when in the shipped trojan list, else `service` when it has a registered name, else `unlisted`. */
export function portClass(port: string): PortClass {
  if (trojans.has(port)) return 'trojan';
  if (services.has(port)) return 'service';
  return 'unlisted';
}

/** A chart label: `tcp/445 microsoft-ds`, or the port alone when it has no registered name. */
export function portLabel(port: string): string {
  const name = services.get(port);
  return name === undefined ? port : `${port} ${name}`;
}
