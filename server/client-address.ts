/**
 * The address a client is rate-limited by. From the socket, or from X-Forwarded-For only when the
 * socket's peer is a configured trusted proxy (otherwise anyone could claim any address). IPv4 is
 * keyed by a /32 and IPv6 by a /64 by default, since one IPv6 user usually holds a whole /64.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface AddressPolicy {
  trustedProxies: ReadonlySet<string>;
  ipv4Prefix: number;
  ipv6Prefix: number;
}

function normalize(addr: string): string {
  const a = addr.trim().toLowerCase();
  return a.startsWith('::ffff:') && isIPv4(a.slice(7)) ? a.slice(7) : a;
}

/** The client's address: the peer, or the right-most untrusted X-Forwarded-For hop behind trusted proxies. */
export function clientAddress(peer: string, forwardedFor: string, policy: AddressPolicy): string {
  let addr = normalize(peer);
  if (!policy.trustedProxies.has(addr) || forwardedFor === '') return addr;
  const hops = forwardedFor.split(',').map(normalize).filter((h) => h !== '');
  while (hops.length > 0) {
    const hop = hops.pop() as string;
    if (!isIPv4(hop) && !isIPv6(hop)) break; // garbage: stop at the last address we could trust
    addr = hop;
    if (!policy.trustedProxies.has(hop)) break;
  }
  return addr;
}

/** Eight 16-bit groups of an IPv6 address (handles `::` and an embedded IPv4 tail). */
function ipv6Groups(addr: string): number[] {
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!isIPv4(g)) return [parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = addr.split('::');
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** The rate-limit key: the address masked to its prefix, e.g. "2001:db8:0:1:0:0:0:0/64" or "1.2.3.4/32". */
export function addressKey(addr: string, policy: AddressPolicy): string {
  if (isIPv4(addr)) {
    const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const block = 2 ** (32 - policy.ipv4Prefix);
    const m = n - (n % block);
    const octets = [2 ** 24, 2 ** 16, 2 ** 8, 1].map((d) => Math.floor(m / d) % 256);
    return `${octets.join('.')}/${policy.ipv4Prefix}`;
  }
  if (isIPv6(addr)) {
    let bits = policy.ipv6Prefix;
    const masked = ipv6Groups(addr).map((g) => {
      const keep = Math.max(0, Math.min(16, bits));
      bits -= 16;
      return keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff);
    });
    return `${masked.map((g) => g.toString(16)).join(':')}/${policy.ipv6Prefix}`;
  }
  return addr; // not an IP (e.g. a unix socket): key by the text
}
