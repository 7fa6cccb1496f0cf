import { isIP, isIPv4 } from 'node:net';

/**
 * One spelling per address: source addresses are pseudonymized later, so `2001:DB8::0:1`, `2001:db8::1` and
 * `::ffff:192.0.2.1` vs `192.0.2.1` must not become different subjects.
 *
 * Returns the RFC 5952 form of an IPv6 address (lower case, no leading zeros, the longest run of two or more
 * zero groups — the first on a tie — as `::`), an IPv4-mapped address (`::ffff:a.b.c.d`) as plain IPv4, an
 * IPv4 address unchanged (node's isIPv4 already refuses leading zeros), and undefined for anything else,
 * including addresses with a zone id (`fe80::1%eth0`), which name an interface rather than a host.
 */
export function normalizeIp(ip: string): string | undefined {
  if (typeof ip !== 'string') return undefined;
  const kind = isIP(ip);
  if (kind === 4) return ip;
  if (kind !== 6 || ip.includes('%')) return undefined;
  const g = ipv6Groups(ip);
  if (g === undefined) return undefined;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const hi = g[6] ?? 0;
    const lo = g[7] ?? 0;
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return formatIpv6(g);
}

/** The eight 16-bit groups of a syntactically valid IPv6 address (isIP has vetted the syntax). */
function ipv6Groups(ip: string): number[] | undefined {
  const gap = ip.indexOf('::');
  const headText = gap === -1 ? ip : ip.slice(0, gap);
  const tailText = gap === -1 ? '' : ip.slice(gap + 2);
  const head = headText === '' ? [] : headText.split(':');
  const tail = tailText === '' ? [] : tailText.split(':');
  const words = (parts: string[]): number[] | undefined => {
    const out: number[] = [];
    for (const p of parts) {
      if (p.includes('.')) {
        const o = p.split('.').map(Number);
        if (o.length !== 4) return undefined;
        out.push(((o[0] ?? 0) << 8) | (o[1] ?? 0), ((o[2] ?? 0) << 8) | (o[3] ?? 0));
      } else {
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const h = words(head);
  const t = words(tail);
  if (h === undefined || t === undefined) return undefined;
  const missing = 8 - h.length - t.length;
  if (gap === -1 ? missing !== 0 : missing < 1) return undefined;
  const zeros: number[] = new Array<number>(missing).fill(0);
  return [...h, ...zeros, ...t];
}

function formatIpv6(g: number[]): string {
  // Longest run of zero groups; RFC 5952 §4.2.2: a single zero group is never shortened.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    g
      .slice(from, to)
      .map((w) => w.toString(16))
      .join(':');
  if (bestStart === -1) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** A per-batch memo: sensors repeat the same few addresses, and IPv6 normalization is not free. */
export function makeIpNormalizer(): (ip: string) => string | undefined {
  const memo = new Map<string, string | undefined>();
  return (ip) => {
    // The common case, a dotted quad, needs no canonicalization and no memo entry.
    if (!ip.includes(':')) return isIPv4(ip) ? ip : undefined;
    let v = memo.get(ip);
    if (v === undefined && !memo.has(ip)) {
      v = normalizeIp(ip);
      if (memo.size < 10_000) memo.set(ip, v);
    }
    return v;
  };
}
