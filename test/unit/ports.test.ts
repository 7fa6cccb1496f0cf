import { describe, expect, it } from 'vitest';
import {
  SERVICES_SOURCE,
  TROJAN_PORTS,
  TROJANS_SOURCE,
  expandPorts,
  isPortKey,
  portClass,
  portLabel,
  serviceName,
  trojanNames,
} from '../../lib/ports/index.js';

/**
 * TCP and UDP entries of Debian netbase 6.4's /etc/services, counted once on a machine with it installed:
 *   grep -vE '^\s*(#|$)' /etc/services | awk '{print $2}' | grep -cE '^[0-9]+/(tcp|udp)$'   → 313
 * (218 tcp + 95 udp). The test does not read /etc/services: the table must not depend on the machine.
 */
const NETBASE_6_4_TCP = 218;
const NETBASE_6_4_UDP = 95;

const allPorts = (proto: 'tcp' | 'udp') => Array.from({ length: 65536 }, (_, n) => `${proto}/${n}`);

describe('serviceName', () => {
  it.each([
    ['tcp/445', 'microsoft-ds'],
    ['tcp/22', 'ssh'],
    ['udp/137', 'netbios-ns'],
    ['tcp/3389', 'ms-wbt-server'],
    ['udp/53', 'domain'],
    ['tcp/53', 'domain'],
    ['tcp/80', 'http'],
    ['udp/443', 'https'],
    ['udp/69', 'tftp'],
    ['udp/123', 'ntp'],
    ['udp/500', 'isakmp'],
    ['tcp/1433', 'ms-sql-s'],
    ['tcp/5432', 'postgresql'],
    ['tcp/1', 'tcpmux'],
  ])('%s → %s', (port, name) => {
    expect(serviceName(port)).toBe(name);
  });

  it('keeps tcp and udp apart', () => {
    expect(serviceName('udp/445')).toBeUndefined(); // netbase lists 445 for tcp only
    expect(serviceName('tcp/137')).toBeUndefined(); // and 137 for udp only
  });

  it('covers at least every TCP and UDP entry of netbase 6.4', () => {
    const tcp = allPorts('tcp').filter((p) => serviceName(p) !== undefined).length;
    const udp = allPorts('udp').filter((p) => serviceName(p) !== undefined).length;
    expect(tcp).toBeGreaterThanOrEqual(NETBASE_6_4_TCP);
    expect(udp).toBeGreaterThanOrEqual(NETBASE_6_4_UDP);
  });

  it('is undefined for unlisted ports', () => {
    expect(serviceName('tcp/40000')).toBeUndefined();
    expect(serviceName('tcp/65535')).toBeUndefined();
  });
});

describe('shipped trojan list', () => {
  it('has a few dozen entries, each named, with well-formed tcp/udp ports', () => {
    expect(TROJAN_PORTS.length).toBeGreaterThanOrEqual(30);
    for (const entry of TROJAN_PORTS) {
      expect(entry.name.trim()).not.toBe('');
      expect(entry.role.trim()).not.toBe('');
      expect(entry.ports.length).toBeGreaterThan(0);
      for (const key of entry.ports.flatMap(expandPorts)) {
        expect(isPortKey(key), `${entry.name}: ${key}`).toBe(true);
      }
    }
  });

  it.each([
    ['udp/31337', 'Back Orifice'],
    ['tcp/12345', 'NetBus'],
    ['tcp/12346', 'NetBus'],
    ['tcp/27374', 'SubSeven / Sub7'],
    ['tcp/1243', 'SubSeven / Sub7'],
    ['udp/2140', 'Deep Throat'],
    ['tcp/30101', 'NetSphere'],
    ['tcp/21554', 'GirlFriend'],
    ['tcp/54320', 'Back Orifice 2000 / BO2K'],
    ['tcp/3127', 'W32.Mydoom.A / Novarg'],
    ['tcp/3198', 'W32.Mydoom.A / Novarg'],
    ['tcp/17300', 'Kuang2'],
    ['tcp/4444', 'W32.Blaster'],
    ['tcp/5554', 'W32.Sasser'],
    ['tcp/9996', 'W32.Sasser'],
    ['tcp/2745', 'W32.Beagle / Bagle (later variants)'],
    ['tcp/9898', 'W32.Dabber'],
    ['tcp/3410', 'Optix Pro'],
    ['tcp/6666', 'Beast'],
    ['udp/27444', 'trinoo'],
  ])('%s is a port of %s', (port, name) => {
    expect(trojanNames(port)).toContain(name);
  });

  it('expands ranges inclusively and nothing beyond them', () => {
    expect(expandPorts('tcp/30100-30102')).toEqual(['tcp/30100', 'tcp/30101', 'tcp/30102']);
    expect(trojanNames('tcp/3199')).toEqual([]);
    expect(trojanNames('tcp/3126')).toEqual([]);
    expect(() => expandPorts('icmp/1-2')).toThrow();
    expect(() => expandPorts('tcp/9-3')).toThrow();
  });

  it('is protocol-specific', () => {
    expect(trojanNames('tcp/31337')).toEqual([]); // Back Orifice listens on udp
    expect(trojanNames('udp/12345')).toEqual([]); // NetBus on tcp
  });

  it('returns a copy', () => {
    trojanNames('tcp/12345').push('mutated');
    expect(trojanNames('tcp/12345')).not.toContain('mutated');
  });
});

describe('portClass (DESIGN §14 precedence)', () => {
  it('trojan wins over a registered name', () => {
    // 27374 is IANA's (and netbase's) `asp`, and SubSeven's default port.
    expect(serviceName('tcp/27374')).toBe('asp');
    expect(portClass('tcp/27374')).toBe('trojan');
  });

  it('trojan without a registered name', () => {
    expect(serviceName('tcp/12345')).toBeUndefined(); // netbase 6.4 does not list 12345 (IANA's italk)
    expect(portClass('tcp/12345')).toBe('trojan');
  });

  it('service when registered and not a trojan port', () => {
    expect(portClass('tcp/445')).toBe('service');
    expect(portClass('udp/137')).toBe('service');
  });

  it('unlisted otherwise', () => {
    expect(portClass('tcp/40000')).toBe('unlisted');
    expect(portClass('udp/40000')).toBe('unlisted');
  });
});

describe('portLabel', () => {
  it('adds the registered name when there is one', () => {
    expect(portLabel('tcp/445')).toBe('tcp/445 microsoft-ds');
    expect(portLabel('tcp/27374')).toBe('tcp/27374 asp');
  });

  it('is the port alone otherwise', () => {
    expect(portLabel('tcp/40000')).toBe('tcp/40000');
    expect(portLabel('tcp/12345')).toBe('tcp/12345');
  });
});

describe('malformed ports', () => {
  it.each(['icmp/0', 'tcp/70000', 'tcp/65536', '445', 'TCP/445', 'tcp/0445', 'tcp/', '', 'tcp/445 ', 'tcp/-1', 'sctp/22'])(
    '%j has no name and is unlisted',
    (port) => {
      expect(isPortKey(port)).toBe(false);
      expect(serviceName(port)).toBeUndefined();
      expect(trojanNames(port)).toEqual([]);
      expect(portClass(port)).toBe('unlisted');
      expect(portLabel(port)).toBe(port);
    },
  );

  it('accepts the bounds', () => {
    expect(isPortKey('tcp/0')).toBe(true);
    expect(isPortKey('udp/65535')).toBe(true);
  });

  it('ignores names inherited from Object.prototype', () => {
    expect(serviceName('constructor')).toBeUndefined();
    expect(portClass('__proto__')).toBe('unlisted');
  });
});

describe('sources', () => {
  it('say where the facts come from and under which terms', () => {
    expect(SERVICES_SOURCE).toContain('Debian netbase 6.4');
    expect(SERVICES_SOURCE).toContain('/etc/services');
    expect(SERVICES_SOURCE).toContain("IANA's Service Name and Transport Protocol Port Number Registry");
    expect(SERVICES_SOURCE).toContain('GPL-2');
    expect(TROJANS_SOURCE).toContain('own words');
  });
});
