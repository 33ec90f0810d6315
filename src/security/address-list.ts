/**
 * Lists of IP addresses and CIDR ranges, as the settings TRUST_PROXY and ADMIN_ALLOW_CIDRS take them
 * (`127.0.0.1, 10.0.0.0/8, ::1, fd00::/8`, or the name `loopback`). Parsed once at start; checked per request.
 */
import { BlockList, isIP } from 'node:net';

/** What `loopback` stands for (the only name accepted, documented in the README). */
const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export interface AddressList {
  /** The entries as written (CIDRs and addresses), `loopback` expanded: what Fastify's trustProxy takes. */
  entries: string[];
  contains(ip: string): boolean;
}

/**
 * Parses a comma-separated list; returns the first entry that is neither an address nor a CIDR range as a
 * problem (for a one-line ConfigError), or the list.
 */
export function parseAddressList(raw: string): { ok: true; list: AddressList } | { ok: false; bad: string } {
  const entries: string[] = [];
  const block = new BlockList();
  for (const item of raw
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const expanded = item.toLowerCase() === 'loopback' ? LOOPBACK : [item];
    for (const e of expanded) {
      const [addr, prefix, extra] = e.split('/');
      const family = isIP(addr ?? '');
      if (!family || extra !== undefined) return { ok: false, bad: item };
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) block.addAddress(addr!, type);
      else {
        const bits = /^\d{1,3}$/.test(prefix) ? Number(prefix) : -1;
        if (bits < 0 || bits > (family === 4 ? 32 : 128)) return { ok: false, bad: item };
        // A range wider than a private network block (10.0.0.0/8, fc00::/7) trusts the whole Internet in pieces
        // (0.0.0.0/1 + 128.0.0.0/1 is "true" again), and /0 is not a proxy's address at all (S4).
        const mapped = family === 6 && /^::ffff:/i.test(addr!);
        if (bits < (family === 4 ? 8 : mapped ? 104 : 7))
          return { ok: false, bad: `${item} (wider than /${family === 4 ? 8 : mapped ? 104 : 7})` };
        block.addSubnet(addr!, bits, type);
      }
      entries.push(e);
    }
  }
  if (!entries.length) return { ok: false, bad: raw };
  return { ok: true, list: { entries, contains: (ip) => containsAddress(block, ip) } };
}

function containsAddress(block: BlockList, ip: string | undefined): boolean {
  if (!ip) return false;
  const family = isIP(ip);
  if (!family) return false;
  // An IPv4 client seen by a dual-stack listener arrives as ::ffff:a.b.c.d; BlockList matches it to IPv4 rules.
  return block.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** True for the loopback addresses of IPv4 (127/8, also IPv4-mapped) and IPv6 (::1). */
export function isLoopbackAddress(ip: string | undefined): boolean {
  return LOOPBACK_LIST.contains(ip ?? '');
}

const LOOPBACK_LIST = (parseAddressList('loopback') as { ok: true; list: AddressList }).list;
