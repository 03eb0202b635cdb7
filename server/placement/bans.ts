/**
 * Who may not place: identities, and address prefixes (CIDR), each with a reason and an optional
 * end. A prefix ban catches every identity from that network, new ones included, so clearing cookies
 * (a private window) no longer gets a banned player back in. A prefix is matched against the client's
 * address key (its --ipv4-prefix / --ipv6-prefix network): a ban as wide as the key or wider covers
 * exactly the networks inside it; a narrower one covers a key whose network address it contains.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseIpRanges } from '../identity/client-address.ts';
import type { Placer } from './service.ts';

export interface Ban {
  reason: string;
  /** Unix ms when it ends; undefined: until lifted. */
  until: number | undefined;
}

export interface BanFound extends Ban {
  /** What is banned: this identity, or the network it places from. */
  scope: 'identity' | 'network';
}

export class Bans {
  private readonly prefixes = new Map<string, Ban>();
  private ranges = new BlockList();

  constructor(
    private readonly ids: Map<string, Ban>,
    prefixes: Iterable<[string, Ban]> = [],
  ) {
    for (const [cidr, ban] of prefixes) this.prefixes.set(cidr, ban);
    this.rebuild();
  }

  /** The ban in force on `placer` at `now`, the identity's first; expired ones are forgotten. */
  of(placer: Placer, now = Date.now()): BanFound | undefined {
    const own = this.live(this.ids, placer.identityId, now);
    if (own) return { ...own, scope: 'identity' };
    if (this.prefixes.size === 0) return undefined;
    const address = placer.addressKey.split('/')[0] ?? '';
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    if (!family || !this.ranges.check(address, family)) return undefined;
    for (const [cidr, ban] of [...this.prefixes]) {
      if (ban.until !== undefined && ban.until <= now) {
        this.setPrefix(cidr, undefined);
        continue;
      }
      const single = new BlockList();
      const [range] = parseIpRanges(cidr);
      if (range) single.addSubnet(range.address, range.prefix, range.family);
      if (single.check(address, family)) return { ...ban, scope: 'network' };
    }
    return undefined;
  }

  setIdentity(id: string, ban: Ban | undefined): void {
    if (ban) this.ids.set(id, ban);
    else this.ids.delete(id);
  }

  /** `cidr` as parseIpRanges writes it (canonical), so one network has one entry. */
  setPrefix(cidr: string, ban: Ban | undefined): void {
    if (ban) this.prefixes.set(cidr, ban);
    else this.prefixes.delete(cidr);
    this.rebuild();
  }

  private live(map: Map<string, Ban>, key: string, now: number): Ban | undefined {
    const ban = map.get(key);
    if (ban?.until !== undefined && ban.until <= now) {
      map.delete(key);
      return undefined;
    }
    return ban;
  }

  /** One BlockList of every banned range: the common case (not banned) is one check. */
  private rebuild(): void {
    this.ranges = new BlockList();
    for (const cidr of this.prefixes.keys()) {
      for (const r of parseIpRanges(cidr)) this.ranges.addSubnet(r.address, r.prefix, r.family);
    }
  }
}

/** How a refusal names a ban: its scope, reason and end. */
export function banMessage(ban: BanFound, now = Date.now()): string {
  const who = ban.scope === 'identity' ? 'this identity is' : 'this network is';
  const reason = ban.reason === '' ? '' : ` (${ban.reason})`;
  const until = ban.until === undefined ? '' : `; it ends in ${Math.ceil((ban.until - now) / 1000)} s`;
  return `${who} banned from placing${reason}${until}`;
}
