/**
 * Who is asking: the identity (cookie, or a token passed explicitly) and the rate-limit address of an
 * HTTP request or WebSocket upgrade. Reads `req`, so it must run inside the synchronous uWS callback.
 * A request without a valid token gets a fresh identity, as many as its address prefix may mint
 * (mint-limit.ts). A request carrying a bot token that does not verify gets none at all
 * (`refused`): a sanctioned bot never mints identities, and a broken one must not fall back to
 * placing anonymously under the canvas's rules (tokens.ts).
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { addressKey, clientAddress, type AddressPolicy } from './client-address.ts';
import type { MintLimit } from './mint-limit.ts';
import { COOKIE_NAME, isBotTokenShaped, readCookie, type Identity, type IdentityIssuer } from './tokens.ts';

export interface ClientAddress {
  /** Address key for cooldowns, e.g. "203.0.113.7/32". */
  addressKey: string;
  /** The client address itself (audit logs). */
  ip: string;
}

export type RequestClient = ClientAddress &
  (
    | { identity: Identity; mintRetryMs?: undefined; refused?: undefined }
    /** No valid token, and the address prefix minted its share of identities: retry after `mintRetryMs`. */
    | { identity: undefined; mintRetryMs: number; refused?: undefined }
    /** A bot token that does not verify (forged, malformed, another deployment's): why, for the 401. */
    | { identity: undefined; mintRetryMs?: undefined; refused: string }
  );

/** The token of an `Authorization: Bearer <token>` header (RFC 6750), or undefined. */
export function bearerToken(header: string): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1];
}

export interface RequestIdentity {
  /** The identity of the first valid token (explicit, bearer, cookie), else a fresh one if the address may mint. */
  (res: HttpResponse, req: HttpRequest, token?: string): RequestClient;
  /** Only where the request comes from: mints nothing. */
  address(res: HttpResponse, req: HttpRequest): ClientAddress;
  /** The identity of a valid bearer or cookie token, else undefined: mints nothing (a read needs no identity). */
  known(req: HttpRequest): Identity | undefined;
}

export function makeRequestIdentity(issuer: IdentityIssuer, policy: AddressPolicy, mints: MintLimit): RequestIdentity {
  const address = (res: HttpResponse, req: HttpRequest): ClientAddress => {
    const peer = Buffer.from(res.getRemoteAddressAsText()).toString();
    const ip = clientAddress(peer, req.getHeader('x-forwarded-for'), policy);
    return { ip, addressKey: addressKey(ip, policy) };
  };
  const identify = (res: HttpResponse, req: HttpRequest, token?: string): RequestClient => {
    const where = address(res, req);
    const candidates = [
      token || undefined,
      bearerToken(req.getHeader('authorization')),
      readCookie(req.getHeader('cookie'), COOKIE_NAME),
    ];
    for (const t of candidates)
      if (t !== undefined && isBotTokenShaped(t) && !issuer.verify(t))
        return { ...where, identity: undefined, refused: 'the bot token is not valid on this server' };
    const known = issuer.known(...candidates);
    if (known) return { ...where, identity: known };
    const wait = mints.take(where.addressKey);
    return wait === 0 ? { ...where, identity: issuer.mint() } : { ...where, identity: undefined, mintRetryMs: wait };
  };
  const known = (req: HttpRequest): Identity | undefined =>
    issuer.known(
      undefined,
      bearerToken(req.getHeader('authorization')),
      readCookie(req.getHeader('cookie'), COOKIE_NAME),
    );
  return Object.assign(identify, { address, known });
}
