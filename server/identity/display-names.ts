/**
 * Display names (README "Display names"): an identity may choose a name that the stats show instead
 * of its id. Held by the process that owns the canvas (the writer), which alone writes the names
 * table (store/name-store.ts), so uniqueness is decided in one place; an edge forwards the request.
 *
 * The rules, checked by `checkName` on the front (a quick answer) and again here (a request may come
 * off the bus):
 * - NFC, trimmed, runs of spaces folded to one; 1..24 characters (code points).
 * - Letters and digits of any script (with their combining marks), space, `_`, `-`, `.`; nothing else,
 *   so no control, format (bidi overrides, zero-width) or symbol characters. It must hold a letter or
 *   a digit and may not start with a combining mark.
 * - Unique case-insensitively, after NFKC: "Alice", "alice" and fullwidth "ＡＬＩＣＥ" are one name. The
 *   top lists are where players recognise each other; names that differ only in case or width would
 *   let one player pass for another. The cost is first come, first served; a moderator can clear a
 *   name (moderation.ts, audited), which frees it.
 * - Not a run of 8 or more hex digits (it would read as someone's identity id, which the lists show
 *   for players without a name), and not one of a few words the page or moderators use ("you", "mod").
 *
 * A banned identity (or one placing from a banned network) cannot set or change one; it may still
 * clear its own. A name is set at most once per NAME_LIMITS.changeMs per identity (`cooldown`). A sanctioned bot is named by its moderator (the stats show that name, marked as a
 * bot) and cannot choose another.
 */
import Database from 'better-sqlite3';
import { ErrorCode } from '../../protocol/messages.ts';
import { type AnyCode, HttpCode } from '../http/status.ts';
import type { Bans } from '../placement/bans.ts';
import type { Bots } from '../placement/bots.ts';
import type { Placer } from '../placement/service.ts';
import type { NameStore } from '../store/name-store.ts';

export const NAME_LIMITS = {
  /** Characters (code points) of a name: room for "Firstname Lastname", short enough for a list. */
  maxChars: 24,
  /** What a request may carry before it is checked (the route's body and the bus decoder). */
  wireChars: 256,
  /**
   * An identity changes its name at most once per this many ms (a refused attempt does not count):
   * room to fix a typo, while one identity cannot turn the writer into a loop of SQLite writes.
   */
  changeMs: 5_000,
} as const;

/** A name's comparison form: names with the same key are the same name. */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}

const ALLOWED = /^[\p{L}\p{M}\p{N}_.\- ]+$/u;
const HAS_LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
const STARTS_WITH_MARK = /^\p{M}/u;
const LOOKS_LIKE_ID = /^[0-9a-f]{8,}$/;
const RESERVED = new Set(['you', 'mod', 'moderator', 'moderation', 'admin', 'administrator', 'system', 'bot']);

/** The checked name (null: clear it) and its key, or why it is refused. */
export type NameCheck =
  | { ok: true; name: string; key: string }
  | { ok: true; name: null }
  | { ok: false; message: string };

/** Checks and normalises a requested name; an empty one (after trimming) asks to clear the name. */
export function checkName(raw: string): NameCheck {
  if (raw.length > NAME_LIMITS.wireChars)
    return { ok: false, message: `a name has at most ${NAME_LIMITS.maxChars} characters` };
  const name = raw.normalize('NFC').trim().replace(/ {2,}/g, ' ');
  if (name === '') return { ok: true, name: null };
  if ([...name].length > NAME_LIMITS.maxChars)
    return { ok: false, message: `a name has at most ${NAME_LIMITS.maxChars} characters` };
  if (!ALLOWED.test(name) || STARTS_WITH_MARK.test(name) || !HAS_LETTER_OR_DIGIT.test(name))
    return { ok: false, message: 'a name holds letters, digits, spaces, "_", "-" and "." only' };
  const key = nameKey(name);
  if (LOOKS_LIKE_ID.test(key)) return { ok: false, message: 'a name may not look like an identity id' };
  if (RESERVED.has(key)) return { ok: false, message: `"${name}" is reserved` };
  return { ok: true, name, key };
}

/** The answer to a name request: the identity's name now (null: none), or the refusal (`wait`: ms, with cooldown). */
export type NameResult =
  | { ok: true; id: string; name: string | null }
  | { ok: false; code: AnyCode; message: string; wait?: number };

const isUniqueViolation = (err: unknown): boolean =>
  err instanceof Database.SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE';

export class DisplayNames {
  private readonly byId = new Map<string, { name: string; key: string }>();
  /** key -> the identity holding it. */
  private readonly byKey = new Map<string, string>();
  /** When each identity that changed its name lately may change it again (Unix ms); pruned as it goes. */
  private readonly nextChange = new Map<string, number>();

  constructor(
    private readonly store: NameStore,
    private readonly rules: { bans: Pick<Bans, 'of'>; bots: Pick<Bots, 'get'> },
  ) {
    for (const r of store.all()) {
      this.byId.set(r.id, { name: r.name, key: r.key });
      this.byKey.set(r.key, r.id);
    }
  }

  /** The name `id` chose, if any. */
  of(id: string): string | undefined {
    return this.byId.get(id)?.name;
  }

  /** Identities with a name. */
  get size(): number {
    return this.byId.size;
  }

  /** An identity sets (or, with an empty name, clears) its own name. */
  choose(placer: Placer, raw: string, now = Date.now()): NameResult {
    const id = placer.identityId;
    if (placer.bot !== undefined || this.rules.bots.get(id))
      return {
        ok: false,
        code: ErrorCode.INVALID_FIELD,
        message: "a sanctioned bot's name is the one its moderator gave it",
      };
    const check = checkName(raw);
    if (!check.ok) return { ok: false, code: ErrorCode.INVALID_FIELD, message: check.message };
    try {
      // Clearing is never held back: it only removes, and a set after it waits out the set before it.
      if (check.name === null) {
        this.clear(id);
        return { ok: true, id, name: null };
      }
      // Clearing is allowed while banned (it removes a name, never shows one); setting is not.
      const ban = this.rules.bans.of(placer, now);
      if (ban)
        return {
          ok: false,
          code: ErrorCode.BANNED,
          message: `${ban.scope === 'network' ? 'this network' : 'this identity'} is banned: it cannot set a name`,
        };
      const holder = this.byKey.get(check.key);
      if (holder !== undefined && holder !== id) return taken(check.name);
      const next = this.nextChange.get(id) ?? 0;
      if (now < next) {
        const wait = next - now;
        const message = `a name changes once per ${NAME_LIMITS.changeMs / 1000} s: retry in ${Math.ceil(wait / 1000)} s`;
        return { ok: false, code: ErrorCode.COOLDOWN, message, wait };
      }
      this.store.set({ id, name: check.name, key: check.key, at: now });
      this.forget(id);
      this.byId.set(id, { name: check.name, key: check.key });
      this.byKey.set(check.key, id);
      this.changed(id, now);
      return { ok: true, id, name: check.name };
    } catch (err) {
      if (isUniqueViolation(err)) return taken(check.name ?? '');
      if (err instanceof Database.SqliteError)
        return { ok: false, code: ErrorCode.STORE_FAILED, message: `the name could not be stored: ${err.message}` };
      throw err;
    }
  }

  /** Removes `id`'s name (its own request, or a moderator's); the name it had, if any. Throws if SQLite does. */
  clear(id: string): string | undefined {
    const had = this.byId.get(id);
    if (!had) return undefined;
    this.store.clear(id);
    this.forget(id);
    return had.name;
  }

  private changed(id: string, now: number): void {
    // Bounded by the identities that changed their name in the last changeMs: older entries go now.
    for (const [other, t] of this.nextChange) if (t <= now) this.nextChange.delete(other);
    this.nextChange.set(id, now + NAME_LIMITS.changeMs);
  }

  private forget(id: string): void {
    const had = this.byId.get(id);
    if (!had) return;
    this.byId.delete(id);
    if (this.byKey.get(had.key) === id) this.byKey.delete(had.key);
  }
}

function taken(name: string): NameResult {
  return { ok: false, code: HttpCode.NAME_TAKEN, message: `"${name}" is taken (names are compared ignoring case)` };
}
