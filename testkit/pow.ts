/**
 * Solves a proof-of-work challenge the way the browser's ALTCHA widget does (altcha-lib's solver,
 * PBKDF2 in node:crypto), and encodes the result as the `pow` a placement carries: base64 JSON
 * `{challenge, solution}`. For tests, benchmarks and the attacker swarm.
 */
import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import type { PowChallenge } from '../protocol/messages.ts';

export async function solvePow(challenge: PowChallenge): Promise<string> {
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('challenge not solved in time');
  return encodePow(challenge, solution);
}

export function encodePow(challenge: PowChallenge, solution: { counter: number; derivedKey: string }): string {
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}
