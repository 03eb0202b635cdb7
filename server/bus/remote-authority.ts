/**
 * The edge's authority: every question goes to the writer over the bus (edge-bus.ts), and no
 * answer becomes `unavailable`. The writer's answers are the same values LocalAuthority gives, so
 * routes and WebSocket handlers cannot tell the roles apart.
 */
import { ErrorCode } from '../../protocol/messages.ts';
import type { AdminAction } from '../moderation/admin-action.ts';
import type { ActionResult } from '../moderation/moderation.ts';
import type { Authority, PixelResult } from '../placement/authority.ts';
import type { PlaceResult, Placer } from '../placement/service.ts';
import type { EdgeBus } from './edge-bus.ts';
import {
  errorAnswer,
  type HistoryRequest,
  type HttpAnswer,
  IMMUTABLE,
  notModified,
} from '../history/history-answers.ts';
import { ByteLru } from '../history/lru.ts';
import { etagMatches } from '../http/routes.ts';

const UNAVAILABLE = {
  ok: false,
  code: ErrorCode.UNAVAILABLE,
  message: 'the writer cannot be reached from this server; if this request had been forwarded, its outcome is unknown',
} as const;

/** A timelapse takes seconds to build (perf/RESULTS.md): the writer gets this long to answer. */
const HISTORY_TIMEOUT_MS = 120_000;
/** Bytes of immutable history answers an edge keeps, so repeated requests never reach the writer. */
const HISTORY_CACHE_BYTES = 64 << 20;

export class RemoteAuthority implements Authority {
  private readonly cache = new ByteLru<HttpAnswer>(HISTORY_CACHE_BYTES, (a) => a.body.length + 512);

  constructor(private readonly bus: EdgeBus) {}

  place(placer: Placer, x: number, y: number, color: number, done: (r: PlaceResult) => void): void {
    this.bus.forward({ k: 'place', who: placer.id, addr: placer.addr, x, y, c: color }, (r) =>
      done(r === undefined ? UNAVAILABLE : (r as PlaceResult)),
    );
  }

  /** Without the writer nobody knows the cooldown: 0, and a placement would be refused anyway. */
  wait(placer: Placer, done: (ms: number) => void): void {
    this.bus.forward({ k: 'wait', who: placer.id, addr: placer.addr }, (r) => done(typeof r === 'number' ? r : 0));
  }

  pixel(x: number, y: number, done: (r: PixelResult) => void): void {
    this.bus.forward({ k: 'pixel', x, y }, (r) => done(r === undefined ? UNAVAILABLE : (r as PixelResult)));
  }

  admin(action: AdminAction, done: (r: ActionResult) => void): void {
    this.bus.forward({ k: 'admin', a: action }, (r) => done(r === undefined ? UNAVAILABLE : (r as ActionResult)));
  }

  /** Immutable answers (a past canvas, a finished range) are kept here and revalidated here. */
  history(req: HistoryRequest, done: (a: HttpAnswer) => void): void {
    const key = `${req.path}?${req.query}`;
    const cached = this.cache.get(key);
    if (cached) {
      const etag = cached.headers['ETag'] ?? '';
      if (etagMatches(req.ifNoneMatch, etag)) return done(notModified(etag, IMMUTABLE));
      return done(cached);
    }
    this.bus.forward(
      { k: 'history', r: req },
      (r) => {
        if (r === undefined) return done(errorAnswer(ErrorCode.UNAVAILABLE, UNAVAILABLE.message));
        const a = r as HttpAnswer;
        // msgpack gives the body back as a Buffer view: keep it as is.
        if (a.status.startsWith('200') && a.headers['Cache-Control'] === IMMUTABLE) this.cache.set(key, a);
        done(a);
      },
      HISTORY_TIMEOUT_MS,
    );
  }
}
