/**
 * Who is asking: the identity (cookie, or a token passed explicitly) and the rate-limit address of an
 * HTTP request or WebSocket upgrade. Reads `req`, so it must run inside the synchronous uWS callback.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { addressKey, clientAddress, type AddressPolicy } from './client-address.ts';
import { COOKIE_NAME, readCookie, type Identity, type IdentityIssuer } from './tokens.ts';

export interface RequestClient {
  identity: Identity;
  /** Address key for cooldowns, e.g. "203.0.113.7/32". */
  addressKey: string;
  /** The client address itself (audit logs). */
  ip: string;
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750), or undefined. */
export function bearerToken(header: string): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1];
}

export type RequestIdentity = (res: HttpResponse, req: HttpRequest, token?: string) => RequestClient;

export function makeRequestIdentity(issuer: IdentityIssuer, policy: AddressPolicy): RequestIdentity {
  return (res, req, token) => {
    const peer = Buffer.from(res.getRemoteAddressAsText()).toString();
    const ip = clientAddress(peer, req.getHeader('x-forwarded-for'), policy);
    const bearer = bearerToken(req.getHeader('authorization'));
    const identity = issuer.resolve(token || undefined, bearer, readCookie(req.getHeader('cookie'), COOKIE_NAME));
    return { identity, addressKey: addressKey(ip, policy), ip };
  };
}
