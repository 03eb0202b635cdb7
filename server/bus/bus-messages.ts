/**
 * What travels over Redis between the writer and the edges, and its encoding (MessagePack, the same
 * library as the client protocol). Internal to the deployment: writer and edges run the same code
 * version, so this format has no negotiation; clients never see it.
 *
 * Keys and channels (P = --redis-prefix):
 * - `P:meta` (key): the canvas an edge serves (id, size, palette, timings) and the identity secret,
 *   so a token minted by any process is valid on all.
 * - `P:frame` (key): the latest tick message (the same bytes as published), so a starting or
 *   resyncing edge needs no writer round trip.
 * - `P:ticks` (channel): one `tick` per changed tick (PNG and delta) and one `beat` per tick
 *   interval (liveness, and the seq, so an edge that missed a tick notices).
 * - `P:requests` (channel): batches of forwarded requests from every edge.
 * - `P:presence` (channel): each edge's number of WebSocket clients, once per tick interval; the
 *   writer adds them up (with its own) and sends the total in its beats.
 * - `P:answers:EDGE` (channel): batches of answers for one edge.
 */
import { Packr } from 'msgpackr';
import type { HistoryRequest, HttpAnswer } from '../history/history-answers.ts';
import type { AdminAction } from '../moderation/admin-action.ts';
import type { ActionResult } from '../moderation/moderation.ts';
import type { PixelResult } from '../placement/authority.ts';
import type { PlaceResult } from '../placement/service.ts';

export interface BusKeys {
  meta: string;
  frame: string;
  ticks: string;
  requests: string;
  presence: string;
  answers(edge: string): string;
}

export function busKeys(prefix: string): BusKeys {
  return {
    meta: `${prefix}:meta`,
    frame: `${prefix}:frame`,
    ticks: `${prefix}:ticks`,
    requests: `${prefix}:requests`,
    presence: `${prefix}:presence`,
    answers: (edge) => `${prefix}:answers:${edge}`,
  };
}

export interface CanvasMeta {
  canvasId: string;
  width: number;
  height: number;
  palette: number[];
  tickMs: number;
  cooldownMs: number;
  /** HMAC key of identity tokens (hex). */
  secret: string;
}

/** A frame as the writer encoded it; `at` is the writer's wall clock when it published the tick. */
export interface FrameMsg {
  k: 'tick';
  canvasId: string;
  seq: number;
  etag: string;
  png: Uint8Array;
  at: number;
  /** The change since `delta.fromSeq` as the encoded client `delta` message; absent: use the PNG. */
  delta?: { fromSeq: number; toSeq: number; count: number; message: Uint8Array };
}

export interface BeatMsg {
  k: 'beat';
  canvasId: string;
  seq: number;
  at: number;
  /** WebSocket clients of the whole deployment. */
  online: number;
}

export interface PresenceMsg {
  edge: string;
  n: number;
}

export type Request =
  | { i: number; k: 'place'; who: string; addr: string; x: number; y: number; c: number }
  | { i: number; k: 'wait'; who: string; addr: string }
  | { i: number; k: 'pixel'; x: number; y: number }
  | { i: number; k: 'admin'; a: AdminAction }
  | { i: number; k: 'history'; r: HistoryRequest };

export type Answer = PlaceResult | number | PixelResult | ActionResult | HttpAnswer;

export interface RequestBatch {
  edge: string;
  reqs: Request[];
}

export interface AnswerBatch {
  ans: Array<{ i: number; r: Answer }>;
}

// Plain maps (no msgpackr records), so a Redis MONITOR shows readable structures.
const packr = new Packr({ useRecords: false });

export const encodeBus = (value: FrameMsg | BeatMsg | CanvasMeta | RequestBatch | AnswerBatch | PresenceMsg): Buffer =>
  packr.pack(value);

/** Decodes a bus payload; undefined when it is not MessagePack or not a map (logged by the caller). */
export function decodeBus(bytes: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = packr.unpack(bytes);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
