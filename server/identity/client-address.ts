/**
 * The address a client is rate-limited by. From the socket, or from X-Forwarded-For only when the
 * socket's peer is a configured trusted proxy (otherwise anyone could claim any address). IPv4 is
 * keyed by a /32 and IPv6 by a /64 by default, since one IPv6 user usually holds a whole /64.
 *
 * Every address is first brought to one canonical text (`canonicalIp`): on a dual-stack listener
 * (`--host ::`) uWS.js v20.30.0 reports an IPv4 peer as expanded IPv4-mapped IPv6
 * (`0000:0000:0000:0000:0000:ffff:7f00:0001`), and proxies write IPv6 in any spelling.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** An address or CIDR range from the configuration, canonical (`canonicalIp`) and checked. */
export interface IpRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

export interface AddressPolicy {
  /** Peers whose X-Forwarded-For is believed; asked with canonical addresses only. */
  trustedProxies: BlockList;
  ipv4Prefix: number;
  ipv6Prefix: number;
  /** Told of an X-Forwarded-For hop that names no address (`unknown`, garbage): the proxy's address is used. */
  unparsableHop?: (hop: string) => void;
}

/** Eight 16-bit groups of a valid IPv6 address (handles `::` and an embedded IPv4 tail). */
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

/**
 * One text per address, or undefined when `text` is not an IP address: IPv4 as dotted decimal
 * (IPv4-mapped IPv6 in any spelling included), other IPv6 in RFC 5952 form (lower case, no leading
 * zeros, the longest run of two or more zero groups, the first on a tie, shortened to `::`).
 * Written by hand rather than with net.SocketAddress: its formatter (libuv inet_ntop, Node 20) prints
 * any address whose first 96 bits are zero in the deprecated IPv4-compatible form (`::2:3` becomes
 * `::0.2.0.3`), which is not RFC 5952 text, and the group parser is needed for `addressKey` anyway.
 */
export function canonicalIp(text: string): string | undefined {
  const a = text.trim().toLowerCase();
  // isIPv4 refuses leading zeros and other loose spellings, so accepted dotted text is canonical.
  if (isIPv4(a)) return a;
  // A zone (`fe80::1%eth0`) only means something on the host that wrote it: key by the address.
  const bare = a.split('%')[0] ?? '';
  if (!isIPv6(bare)) return undefined;
  const g = ipv6Groups(bare);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    const [hi = 0, lo = 0] = g.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  let best = { at: -1, len: 1 }; // runs of one zero group are not shortened (RFC 5952 4.2.2)
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best.at < 0) return hex(g);
  return `${hex(g.slice(0, best.at))}::${hex(g.slice(best.at + best.len))}`;
}

/**
 * Parses a comma-separated list of addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`, `::1`).
 * Throws an Error naming the first bad entry. A range written on an IPv4-mapped address
 * (`::ffff:10.0.0.0/104`) becomes the IPv4 range it covers, like the addresses it is checked against.
 */
export function parseIpRanges(list: string): readonly IpRange[] {
  const ranges = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .map((entry): IpRange => {
      const [text = '', prefixText, ...rest] = entry.split('/');
      const address = canonicalIp(text);
      if (address === undefined || rest.length > 0) throw new Error(`"${entry}" is not an IP address or CIDR range`);
      const family = isIPv4(address) ? 'ipv4' : 'ipv6';
      const bits = family === 'ipv4' ? 32 : 128;
      // Mapped IPv6 written for an IPv4 address: its prefix counts the 96 bits before the IPv4 part.
      const offset = family === 'ipv4' && !isIPv4(text.trim()) ? 96 : 0;
      if (prefixText === undefined) return Object.freeze({ address, prefix: bits, family });
      const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) - offset : NaN;
      if (!(prefix >= 0 && prefix <= bits))
        throw new Error(`"${entry}" has a prefix length outside 0..${bits + offset}`);
      return Object.freeze({ address, prefix, family });
    });
  return Object.freeze(ranges);
}

/** The ranges as they would be written in the configuration (parses back to the same list). */
export function formatIpRanges(ranges: readonly IpRange[]): string {
  return ranges
    .map((r) => (r.prefix === (r.family === 'ipv4' ? 32 : 128) ? r.address : `${r.address}/${r.prefix}`))
    .join(',');
}

/** A matcher for canonical addresses (node:net BlockList compares numerically, so any spelling works). */
export function ipRangeList(ranges: readonly IpRange[]): BlockList {
  const list = new BlockList();
  for (const r of ranges) list.addSubnet(r.address, r.prefix, r.family);
  return list;
}

/**
 * The address in one X-Forwarded-For hop, or undefined. Besides a bare address, proxies write the
 * forms of RFC 7239's `for=` node: with a port (`192.0.2.1:40000`, `[2001:db8::1]:443`), bracketed
 * IPv6 without one, or the whole node quoted. Some cloud load balancers do: refusing those would key
 * every client behind them by the proxy's own address, one cooldown for the whole site.
 */
export function hopAddress(hop: string): string | undefined {
  let text = hop.trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).trim();
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return isIPv6((bracketed[1] ?? '').split('%')[0] ?? '') ? canonicalIp(bracketed[1] ?? '') : undefined;
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  if (withPort) return isIPv4(withPort[1] ?? '') ? withPort[1] : undefined;
  return canonicalIp(text);
}

function isTrusted(addr: string, policy: AddressPolicy): boolean {
  if (isIPv4(addr)) return policy.trustedProxies.check(addr, 'ipv4');
  return isIPv6(addr) && policy.trustedProxies.check(addr, 'ipv6');
}

/** The client's address: the peer, or the right-most untrusted X-Forwarded-For hop behind trusted proxies. */
export function clientAddress(peer: string, forwardedFor: string, policy: AddressPolicy): string {
  // A peer that is not an IP (e.g. a unix socket) keeps its text and is never a trusted proxy.
  let addr = canonicalIp(peer) ?? peer.trim().toLowerCase();
  if (!isTrusted(addr, policy) || forwardedFor === '') return addr;
  const hops = forwardedFor
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  while (hops.length > 0) {
    const text = hops.pop() as string;
    const hop = hopAddress(text);
    if (hop === undefined) {
      // `unknown` or garbage: stop at the last address we could trust.
      policy.unparsableHop?.(text);
      break;
    }
    addr = hop;
    if (!isTrusted(hop, policy)) break;
  }
  return addr;
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
