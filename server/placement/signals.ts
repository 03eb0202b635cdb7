/**
 * Bot-like signals a moderator can read at a glance, kept from every accepted placement at the cost
 * of two map updates: per address prefix, how many identities place from it (a script minting
 * identities behind one address); per identity, how often it placed the moment its cooldown ended
 * (a human is rarely within a quarter second of it, a bot every time) and how soon after its first
 * sighting it placed at all. In memory and bounded (the least recently active are forgotten first);
 * a restart starts over.
 */

/** A placement within this long after the cooldown ended counts as "at the cooldown". */
const AT_COOLDOWN_MS = 250;
const MAX_IDENTITIES = 50_000;
const MAX_PREFIXES = 20_000;
/** Identities remembered per prefix; past it the count says "at least". */
const MAX_IDS_PER_PREFIX = 1_000;

interface IdentitySeen {
  prefix: string;
  firstAt: number;
  lastAt: number;
  placements: number;
  atCooldown: number;
}

interface PrefixSeen {
  ids: Set<string>;
  placements: number;
  firstAt: number;
}

export interface IdentitySignal {
  id: string;
  prefix: string;
  placements: number;
  /** Share of its placements (after the first) made within AT_COOLDOWN_MS of its cooldown ending. */
  atCooldownShare: number;
  firstAt: number;
  lastAt: number;
}

export interface PrefixSignal {
  prefix: string;
  identities: number;
  placements: number;
  firstAt: number;
}

export class Signals {
  private readonly ids = new Map<string, IdentitySeen>();
  private readonly prefixes = new Map<string, PrefixSeen>();

  constructor(private readonly cooldownMs: number) {}

  /**
   * An accepted placement by `id` from `prefix` at `at` (Unix ms). True when `id` was not known: its
   * first placement as far as this process remembers (the surge defence counts new identities so).
   */
  placed(id: string, prefix: string, at: number): boolean {
    let seen = this.ids.get(id);
    if (seen) {
      this.ids.delete(id); // most recently active last: the map's order is the order to forget in
      const sinceAllowed = at - (seen.lastAt + this.cooldownMs);
      if (this.cooldownMs > 0 && sinceAllowed >= 0 && sinceAllowed < AT_COOLDOWN_MS) seen.atCooldown++;
      seen.placements++;
      seen.lastAt = at;
    } else {
      seen = { prefix, firstAt: at, lastAt: at, placements: 1, atCooldown: 0 };
    }
    this.ids.set(id, seen);
    forgetOldest(this.ids, MAX_IDENTITIES);
    let net = this.prefixes.get(prefix);
    if (net) this.prefixes.delete(prefix);
    else net = { ids: new Set(), placements: 0, firstAt: at };
    if (net.ids.size < MAX_IDS_PER_PREFIX) net.ids.add(id);
    net.placements++;
    this.prefixes.set(prefix, net);
    forgetOldest(this.prefixes, MAX_PREFIXES);
    return seen.placements === 1;
  }

  /** What is known of one identity (undefined: not seen since the start, or forgotten). */
  identity(id: string): Omit<IdentitySignal, 'id' | 'prefix'> | undefined {
    const s = this.ids.get(id);
    if (!s) return undefined;
    const atCooldownShare = s.placements > 1 ? s.atCooldown / (s.placements - 1) : 0;
    return { placements: s.placements, atCooldownShare, firstAt: s.firstAt, lastAt: s.lastAt };
  }

  /** The `limit` prefixes with the most identities, and the `limit` identities most often at the cooldown. */
  top(limit: number): { prefixes: PrefixSignal[]; identities: IdentitySignal[] } {
    const prefixes = [...this.prefixes]
      .map(([prefix, p]) => ({ prefix, identities: p.ids.size, placements: p.placements, firstAt: p.firstAt }))
      .sort((a, b) => b.identities - a.identities || b.placements - a.placements)
      .slice(0, limit);
    const identities = [...this.ids]
      .filter(([, s]) => s.placements > 1)
      .map(([id, s]) => ({
        id,
        prefix: s.prefix,
        placements: s.placements,
        atCooldownShare: s.atCooldown / (s.placements - 1),
        firstAt: s.firstAt,
        lastAt: s.lastAt,
      }))
      .sort((a, b) => b.atCooldownShare - a.atCooldownShare || b.placements - a.placements)
      .slice(0, limit);
    return { prefixes, identities };
  }
}

function forgetOldest<V>(map: Map<string, V>, max: number): void {
  // Checked before the iterator: a Map keeps deleted entries' slots until it rehashes, and the
  // delete-then-set above leaves them at the front, so starting an iterator skipped thousands of
  // them per placement (4.5-7 us a call with 5,000 identities, against 0.1 us with this check).
  if (map.size <= max) return;
  for (const key of map.keys()) {
    if (map.size <= max) return;
    map.delete(key);
  }
}
