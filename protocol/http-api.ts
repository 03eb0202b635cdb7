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
