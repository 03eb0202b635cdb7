/** What the server keeps per WebSocket (uWS user data): identity, stream, and the resume point. */
import type { Stream, TileRegion } from '../../protocol/messages.ts';
import type { Outbox } from './outbox.ts';

export interface Conn {
  id: number;
  /** Identity id: cooldowns and bans key on it. */
  identityId: string;
  /** The client address's rate-limit key (its prefix: identity/client-address.ts). */
  addressKey: string;
  /** Signed in with an account (identity/tokens.ts); absent for an anonymous identity. */
  account?: boolean;
  /** A sanctioned bot's id (identity/tokens.ts); the writer decides whether it may still place. */
  bot?: string;
  /** Token to hand the client in hello when the identity was minted for this connection. */
  freshToken: string | undefined;
  closed: boolean;
  /** Everything sent to this socket, in order, fragmented (outbox.ts). */
  outbox: Outbox;
  /** What this socket receives of each tick: the whole canvas's PNG or deltas, or (below) a region's. */
  stream: Stream;
  /** Delta subscribers of a region only: the level-0 tiles whose changes they receive (streams.ts). */
  region: TileRegion | undefined;
  /** The seq a reconnecting delta client already has (from `?since=`), until the greeting uses it. */
  since: number | undefined;
  /** Asked for `online` messages (`?online=1`). */
  online: boolean;
  /** Asked for `resize` messages (`?resize=1`); the others get only the frame of the new size. */
  resize: boolean;
  /** The project whose `progress` this socket receives (the `watch` message); 0: none. */
  project: number;
}
