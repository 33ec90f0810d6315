/**
 * The unit every per-address limit counts (issue 10, red team items 2 and 3): an IPv4 address itself, an IPv6
 * address's /64. One IPv6 subscriber — a household, a clinic's line, a rented server — is handed a whole /64 (2^64
 * addresses), so a limit kept per single IPv6 address is no limit at all. A /24 of IPv4, on the other hand, is often
 * shared by many unrelated customers of one provider, so an IPv4 address stays its own unit.
 *
 * Login failures per address, login sources and known networks, reset requests and mails per address, proof-of-work
 * passes, token guesses, registrations and the flood limits all key on this; audit rows keep the full address.
 */
import { isIPv4, isIPv6 } from 'node:net';

const MAPPED = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail becomes two groups), or null. */
function groupsOf(ip: string): number[] | null {
  let text = ip.toLowerCase();
  const v4 = /(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const part = (h: string | undefined) => (h ? h.split(':').map((g) => parseInt(g, 16)) : []);
  const head = part(halves[0]);
  const tail = part(halves[1]);
  const groups =
    halves.length === 2 ? [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail] : head;
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * The limit unit of an address: `a.b.c.d` for IPv4 and IPv4-mapped IPv6 (`::ffff:a.b.c.d`, also in hex), and
 * `x:x:x:x::/64` (lower case, no leading zeros) for any other IPv6 address, its zone (`%eth0`) dropped. Anything
 * that is not an address (a test's or a proxy's odd value) is its own unit, unchanged.
 */
export function addressBucket(ip: string): string {
  const mapped = MAPPED.exec(ip);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  const bare = ip.split('%')[0]!;
  if (!isIPv6(bare)) return ip;
  const g = groupsOf(bare);
  if (!g) return ip;
  // ::ffff:0:0/96 written in hex (::ffff:c000:201) is the same IPv4 client.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)
    return [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.');
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}
