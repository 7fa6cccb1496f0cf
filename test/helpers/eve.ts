/** Hand-made Suricata EVE records for tests (no real data). */

/** Formats an instant the way Suricata does: local time with a ±hhmm offset and microseconds. */
export function eveTimestamp(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60_000).toISOString().replace('Z', '');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}123${sign}${hh}${mm}`;
}

export interface EveAlertInput {
  time: number;
  offsetMinutes?: number;
  src?: string;
  srcPort?: number;
  dst?: string;
  dstPort?: number;
  proto?: string;
  sid?: number;
  signature?: string;
  category?: string;
}

export function eveAlert(a: EveAlertInput): string {
  return JSON.stringify({
    timestamp: eveTimestamp(a.time, a.offsetMinutes ?? 120),
    flow_id: 1234567890123456,
    pcap_cnt: 313,
    in_iface: 'eth0',
    event_type: 'alert',
    src_ip: a.src ?? '192.0.2.10',
    src_port: a.srcPort ?? 51234,
    dest_ip: a.dst ?? '198.51.100.20',
    dest_port: a.dstPort ?? 445,
    proto: a.proto ?? 'TCP',
    alert: {
      action: 'allowed',
      gid: 1,
      signature_id: a.sid ?? 2001219,
      rev: 3,
      signature: a.signature ?? 'ET SCAN Potential SSH Scan',
      category: a.category ?? 'Attempted Information Leak',
      severity: 2,
      // Emerging Threats rules carry metadata like this; Suricata copies it into every alert record.
      metadata: {
        affected_product: ['Any'],
        attack_target: ['Any'],
        created_at: ['2013_10_08'],
        deployment: ['Perimeter'],
        signature_severity: ['Major'],
        tag: ['Scan'],
        updated_at: ['2026_06_07'],
      },
    },
    flow: { pkts_toserver: 1, pkts_toclient: 0, bytes_toserver: 74, bytes_toclient: 0, start: eveTimestamp(a.time, a.offsetMinutes ?? 120) },
    host: 'sensor.example',
  });
}

export function eveFlow(time: number): string {
  return JSON.stringify({
    timestamp: eveTimestamp(time, 120),
    flow_id: 42,
    event_type: 'flow',
    src_ip: '192.0.2.10',
    src_port: 51234,
    dest_ip: '198.51.100.20',
    dest_port: 80,
    proto: 'TCP',
    flow: { pkts_toserver: 3, bytes_toserver: 180, state: 'closed' },
  });
}

export function eveDns(time: number): string {
  return JSON.stringify({
    timestamp: eveTimestamp(time, 120),
    event_type: 'dns',
    src_ip: '192.0.2.10',
    dest_ip: '198.51.100.53',
    proto: 'UDP',
    dns: { type: 'query', rrname: 'example.org', rrtype: 'A' },
  });
}
