/**
 * Solves a proof-of-work challenge the way the browser's ALTCHA widget does (altcha-lib's solver,
 * PBKDF2 in node:crypto), and encodes the result as the `pow` a placement carries: base64 JSON
 * `{challenge, solution}`. For tests, benchmarks and the attacker swarm.
 */
import { pbkdf2Sync } from 'node:crypto';
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { PowChallenge } from '../protocol/messages.ts';

/**
 * PBKDF2-SHA-256 on the calling thread: for the benchmarks' easy challenges (cost 10), where a try in
 * libuv's pool costs more in its round trip than in hashing, and the load generator's CPU would
 * otherwise limit what it measures of the server.
 */
const deriveKeyHere: typeof deriveKey = async (parameters, salt, password) => ({
  parameters: {},
  derivedKey: pbkdf2Sync(password, salt, parameters.cost, parameters.keyLength ?? 32, 'sha256'),
});

export async function solvePow(challenge: PowChallenge, options: { onThisThread?: boolean } = {}): Promise<string> {
  if (options.onThisThread && challenge.parameters.algorithm !== 'PBKDF2/SHA-256')
    throw new Error(`solvePow onThisThread: PBKDF2/SHA-256 only, not ${challenge.parameters.algorithm}`);
  const solution = await solveChallenge({ challenge, deriveKey: options.onThisThread ? deriveKeyHere : deriveKey });
  if (!solution) throw new Error('challenge not solved in time');
  return encodePow(challenge, solution);
}

export function encodePow(challenge: PowChallenge, solution: { counter: number; derivedKey: string }): string {
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}
