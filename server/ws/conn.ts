/** What the server keeps per WebSocket (uWS user data): identity, stream, and the resume point. */
import type { Stream } from '../../protocol/messages.ts';
import type { Outbox } from './outbox.ts';

export interface Conn {
  id: number;
  /** Identity id: cooldowns and bans key on it. */
  who: string;
  /** Rate-limit key of the client address. */
  addr: string;
  /** Token to hand the client in hello when the identity was minted for this connection. */
  freshToken: string | undefined;
  closed: boolean;
  /** Everything sent to this socket, in order, fragmented (outbox.ts). */
  outbox: Outbox;
  stream: Stream;
  /** The seq a reconnecting delta client already has (from `?since=`), until open uses it. */
  since: number | undefined;
  /** Asked for `online` messages (`?online=1`). */
  online: boolean;
}
