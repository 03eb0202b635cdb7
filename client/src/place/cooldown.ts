import type { Charges } from '../../../protocol/messages.ts';

/**
 * When this client may place again, in local clock time. The ack's `next` is in the server's clock,
 * which may differ from ours; so the server's figure is trusted only as far as it is plausible
 * (between now and now + cooldown). If our estimate is early, the server answers `cooldown` with
 * `wait`, and that relative figure then sets the deadline.
 */
export function deadlineFromAck(ackNext: number, receivedAt: number, cooldownMs: number): number {
  return receivedAt + Math.max(0, Math.min(cooldownMs, ackNext - receivedAt));
}

export function deadlineFromWait(waitMs: number, receivedAt: number): number {
  return receivedAt + Math.max(0, waitMs);
}

/** Pixel charges in local clock time: `left` of `max` as of `at`, the next one back at `nextAt`. */
export interface ChargeClock {
  left: number;
  max: number;
  /** Local time the next charge comes back; absent when full. */
  nextAt?: number;
}

/**
 * The server's charges in local time. Its `next` is in the server's clock, trusted as far as it is
 * plausible, as with the ack's `next`: a next charge is never more than one charge period away.
 */
export function chargesFromServer(c: Charges, receivedAt: number, chargeMs: number): ChargeClock {
  if (c.next === undefined) return { left: c.left, max: c.max };
  return { left: c.left, max: c.max, nextAt: deadlineFromAck(c.next, receivedAt, chargeMs) };
}

/**
 * The charges at `now`: those that came back since, one every `chargeMs`, up to `max`. The server
 * refills the same way, so the count stays right between acks without asking it.
 */
export function chargesAt(c: ChargeClock, now: number, chargeMs: number): ChargeClock {
  if (c.nextAt === undefined || now < c.nextAt) return c;
  const back = chargeMs > 0 ? 1 + Math.floor((now - c.nextAt) / chargeMs) : c.max;
  const left = Math.min(c.max, c.left + back);
  return left >= c.max ? { left, max: c.max } : { left, max: c.max, nextAt: c.nextAt + back * chargeMs };
}

/** "4 s", "1:05", "1:00:00": rounded up, so "0 s" never shows while still waiting. */
export function formatWait(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  if (total < 60) return `${total} s`;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}
