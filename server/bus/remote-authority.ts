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

const UNAVAILABLE = {
  ok: false,
  code: ErrorCode.UNAVAILABLE,
  message: 'the writer cannot be reached from this server; if this request had been forwarded, its outcome is unknown',
} as const;

export class RemoteAuthority implements Authority {
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
}
