/**
 * Pixel info, the pure part: reading a `GET /api/pixel` answer and the texts the info panel shows
 * (who placed a pixel, when, and the position link to share it). No DOM; unit tested.
 */
import type { PixelInfo } from '../../../protocol/http-api.ts';
import { formatLink } from '../link/position-link.ts';

export type { PixelInfo };

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** The answer if it has the documented shape, else null (a proxy's error page, an older server). */
export function parsePixelInfo(body: unknown): PixelInfo | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  const { x, y, color, who, at, seq } = b;
  if (!isInt(x) || !isInt(y) || !isInt(color)) return null;
  if (who !== null && typeof who !== 'string') return null;
  if (at !== null && !isInt(at)) return null;
  if (seq !== null && !isInt(seq)) return null;
  return { x, y, color, who, at, seq };
}

/** "who placed it" and "when", as the panel says them; `localTime` formats Unix ms in the user's zone. */
export function placedText(info: PixelInfo, localTime: (ms: number) => string): { who: string; when: string } {
  if (info.who === null || info.at === null) return { who: 'nobody', when: 'never placed' };
  return { who: info.who, when: localTime(info.at) };
}

/** The position link that opens centred on pixel (x, y) at `scale`: `base#x=X&y=Y&scale=S`. */
export function pixelLink(base: string, x: number, y: number, scale: number): string {
  return `${base}#${formatLink('', { x, y, scale, colour: null })}`;
}
