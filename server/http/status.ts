/**
 * The one table from error code to HTTP status. Domain code returns codes (protocol ErrorCode, plus
 * the few that exist only over HTTP); routes look the status up here, so a new code cannot silently
 * become a 400: `Record` makes the compiler ask for its status.
 */
import { ErrorCode } from '../../protocol/messages.ts';

/** Codes that only HTTP answers carry (the WebSocket has close codes for these situations). */
export const HttpCode = {
  /** No admin bearer token, or a wrong one. */
  UNAUTHORIZED: 'unauthorized',
  /** No such route (or the moderation API is disabled). */
  NOT_FOUND: 'not_found',
  /** The path exists but not for this method; `Allow` lists the methods. */
  METHOD_NOT_ALLOWED: 'method_not_allowed',
  /** The request body is over the route's limit. */
  BODY_TOO_LARGE: 'body_too_large',
  /** The body is not JSON (or not the JSON object the route needs). */
  BAD_JSON: 'bad_json',
  /** The request itself is malformed (e.g. two Content-Length headers). */
  BAD_REQUEST: 'bad_request',
  /** `GET /ws` without a WebSocket upgrade. */
  UPGRADE_REQUIRED: 'upgrade_required',
  /** A WebSocket upgrade from an Origin not in --allowed-origins. */
  FORBIDDEN_ORIGIN: 'forbidden_origin',
  /** An unexpected failure (a bug); logged with its stack. */
  INTERNAL: 'internal',
  /** What the request asks the server to build is over a documented limit (history timelapse, heatmap). */
  TOO_LARGE: 'too_large',
  /** Every builder is busy (history timelapse, heatmap); `Retry-After` says when to try again. */
  BUSY: 'busy',
  /** An area rollback is already running (one at a time): `GET /api/admin/rollback` says how far it got. */
  ROLLBACK_RUNNING: 'rollback_running',
  /** The address prefix minted its share of new identities; `Retry-After` says when it may again. */
  IDENTITY_LIMIT: 'identity_limit',
  /** Sign-in: the callback's state, nonce or flow cookie is missing or wrong, or the provider refused the code. */
  LOGIN_FAILED: 'login_failed',
  /** Sign-in is configured but not available now (the provider's discovery has not succeeded yet). */
  LOGIN_UNAVAILABLE: 'login_unavailable',
  /** Another identity holds that display name (compared ignoring case, identity/display-names.ts). */
  NAME_TAKEN: 'name_taken',
  /** A project image that is not a PNG that decodes, or has no opaque pixel. */
  BAD_IMAGE: 'bad_image',
  /** A project image with an opaque pixel that is not exactly a palette colour (or partly transparent). */
  IMAGE_PALETTE: 'image_palette',
  /** A project image over --project-max-pixels (width x height). */
  IMAGE_TOO_LARGE: 'image_too_large',
  /** The identity has registered its --projects-per-identity already. */
  PROJECT_LIMIT: 'project_limit',
  /** The identity registered a project less than --project-every-ms ago; `Retry-After` says when it may. */
  PROJECT_RATE: 'project_rate',
  /** A resize (`POST /api/admin/resize`) to a smaller width or height: the canvas only grows. */
  CANVAS_SHRINK: 'canvas_shrink',
  /** A resize past the largest canvas (16,384 a side, the --width/--height limit). */
  CANVAS_TOO_LARGE: 'canvas_too_large',
} as const;
export type HttpCode = (typeof HttpCode)[keyof typeof HttpCode];

export type AnyCode = ErrorCode | HttpCode;

export const HTTP_STATUS: Readonly<Record<AnyCode, string>> = {
  [ErrorCode.NOT_MSGPACK]: '400 Bad Request',
  [ErrorCode.BAD_MESSAGE]: '400 Bad Request',
  [ErrorCode.UNKNOWN_TYPE]: '400 Bad Request',
  [ErrorCode.INVALID_FIELD]: '400 Bad Request',
  [ErrorCode.UNKNOWN_STREAM]: '400 Bad Request',
  [ErrorCode.OUT_OF_BOUNDS]: '400 Bad Request',
  [ErrorCode.BAD_COLOR]: '400 Bad Request',
  [ErrorCode.COOLDOWN]: '429 Too Many Requests',
  [ErrorCode.BANNED]: '403 Forbidden',
  [ErrorCode.STORE_FAILED]: '503 Service Unavailable',
  [ErrorCode.SHUTTING_DOWN]: '503 Service Unavailable',
  [ErrorCode.UNAVAILABLE]: '503 Service Unavailable',
  [ErrorCode.OUTCOME_UNKNOWN]: '504 Gateway Timeout',
  [ErrorCode.LOCKED]: '423 Locked',
  [ErrorCode.CHALLENGE_REQUIRED]: '403 Forbidden',
  [ErrorCode.CHALLENGE_INVALID]: '403 Forbidden',
  // 403, not 401: 401 obliges a WWW-Authenticate challenge, and the remedy is a browser sign-in.
  [ErrorCode.LOGIN_REQUIRED]: '403 Forbidden',
  [ErrorCode.OUTSIDE_REGION]: '403 Forbidden',
  [ErrorCode.BOT_REVOKED]: '403 Forbidden',
  // 404: the resource (a whole-canvas PNG) does not exist at this size; the body says where to look.
  [ErrorCode.USE_TILES]: '404 Not Found',
  [HttpCode.UNAUTHORIZED]: '401 Unauthorized',
  [HttpCode.NOT_FOUND]: '404 Not Found',
  [HttpCode.METHOD_NOT_ALLOWED]: '405 Method Not Allowed',
  [HttpCode.BODY_TOO_LARGE]: '413 Payload Too Large',
  [HttpCode.BAD_JSON]: '400 Bad Request',
  [HttpCode.BAD_REQUEST]: '400 Bad Request',
  [HttpCode.UPGRADE_REQUIRED]: '426 Upgrade Required',
  [HttpCode.FORBIDDEN_ORIGIN]: '403 Forbidden',
  [HttpCode.INTERNAL]: '500 Internal Server Error',
  [HttpCode.TOO_LARGE]: '413 Payload Too Large',
  [HttpCode.BUSY]: '429 Too Many Requests',
  [HttpCode.ROLLBACK_RUNNING]: '409 Conflict',
  [HttpCode.IDENTITY_LIMIT]: '429 Too Many Requests',
  [HttpCode.LOGIN_FAILED]: '400 Bad Request',
  [HttpCode.LOGIN_UNAVAILABLE]: '503 Service Unavailable',
  [HttpCode.NAME_TAKEN]: '409 Conflict',
  [HttpCode.BAD_IMAGE]: '400 Bad Request',
  [HttpCode.IMAGE_PALETTE]: '400 Bad Request',
  [HttpCode.IMAGE_TOO_LARGE]: '400 Bad Request',
  [HttpCode.PROJECT_LIMIT]: '403 Forbidden',
  [HttpCode.PROJECT_RATE]: '429 Too Many Requests',
  [HttpCode.CANVAS_SHRINK]: '400 Bad Request',
  [HttpCode.CANVAS_TOO_LARGE]: '400 Bad Request',
};

export function statusOf(code: AnyCode): string {
  return HTTP_STATUS[code];
}
