/** Shapes of the JSON answers of the HTTP API that clients read (README "HTTP API reference"). */

/** A `GET /api/pixel?x=&y=` answer; `who`, `at` and `seq` are null for a pixel never placed. */
export interface PixelInfo {
  x: number;
  y: number;
  color: number;
  /** Identity id of the last placer, or `mod:<action>` for a moderation change. */
  who: string | null;
  /** Unix ms of that placement. */
  at: number | null;
  seq: number | null;
  /** The name of the sanctioned bot that placed it (its `who` is the bot's id); absent for everyone else. */
  bot?: string;
}

// The moderation console's answers (README "Moderation"), as the server builds them and the /mod
// page checks them (client/src/mod/answers.ts).

/** A rectangle of the canvas: cells x..x+width-1, y..y+height-1. */
export interface Area {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** One placement of `GET /api/admin/placements` (the look), newest first. */
export interface LookRow {
  seq: number;
  x: number;
  y: number;
  color: number;
  /** Identity id, or `mod:<action>` for a moderation change. */
  who: string;
  at: number;
}

/**
 * What the bot-like signals know of an identity since the start: numbers today (`placements`,
 * `atCooldownShare`, `firstAt`, `lastAt`); a reader shows whatever scalars come, as more may.
 */
export type IdentitySignals = Readonly<Record<string, number | string | boolean | null>>;

/** An identity that placed on a page of the look. */
export interface IdentitySummary {
  id: string;
  /** Its placements in the whole rectangle and window. */
  here: number;
  /** Its placements in all. */
  total: number;
  firstSeen: number | null;
  /** A keyed hash of the address prefix of its latest placement (never the address). */
  prefix: string | null;
  /** How many identities (this one included) last placed from that prefix. */
  sharedPrefix: number;
  /** {} when nothing is known. */
  signals: IdentitySignals;
  /** Its display name, when it chose one. */
  name?: string;
  /** The ban in force on it: its own (`identity`) or its latest network's. */
  banned?: { reason: string; until: number | null; scope: 'identity' | 'network' };
}

/** One row of `GET /api/admin/audit`. */
export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  params: unknown;
  result: unknown;
}

/** A project in `GET /api/projects` and in its own answer (README "Projects"). */
export interface ProjectSummary {
  id: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Its pixels (the opaque ones of its image). */
  total: number;
  /** Of those, pixels whose colour on the canvas is the project's. */
  done: number;
  /** done / total x 100, two decimals. */
  percent: number;
  owner: string;
  createdAt: number;
  lastActivity: number;
}
