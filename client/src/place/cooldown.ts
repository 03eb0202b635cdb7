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
