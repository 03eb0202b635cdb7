/**
 * Proof-of-work challenges (`--challenge new|always`): a placement without a solution is refused with
 * a challenge to solve; a solution pays for `--challenge-every` placements; forged, replayed, expired
 * and foreign solutions are refused and place nothing; the WebSocket and an edge carry the same flow.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createChallenge, verifySolution } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { test } from 'node:test';
import { ErrorCode, type ErrorMsg, type PowChallenge } from '../../protocol/messages.ts';
import { startCluster } from '../../testkit/cluster.ts';
import { httpRequest, startTestServer, TestClient, type HttpAnswer } from '../../testkit/fixture.ts';
import { encodePow, solvePow } from '../../testkit/pow.ts';
import { ChallengeIssuer, parsePow } from '../defence/challenges.ts';
import { ChallengeGate } from '../defence/challenge-gate.ts';

/** Small enough that a test solves in milliseconds; the flow is the same at any difficulty. */
const EASY = { challengeDifficulty: 20, challengeCost: 10 };
const EASY_FLAGS = { 'challenge-difficulty': 20, 'challenge-cost': 10 };

function place(base: string, cookie: string, body: Record<string, unknown>): Promise<HttpAnswer> {
  return httpRequest(`${base}/api/pixel`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', Cookie: cookie },
  });
}

/** A new identity (its cookie) from POST /api/session. */
async function session(base: string): Promise<{ cookie: string; id: string }> {
  const res = await httpRequest(`${base}/api/session`, { method: 'POST' });
  const setCookie = res.headers['set-cookie']?.[0] ?? '';
  return { cookie: setCookie.split(';')[0] as string, id: String(res.json().id) };
}

function challengeOf(res: HttpAnswer): PowChallenge {
  const challenge = res.json().challenge as PowChallenge | undefined;
  assert.ok(challenge, `a challenge comes with the refusal: ${res.body}`);
  return challenge;
}

test('--challenge new over HTTP: refused with a challenge, solved once for --challenge-every placements, replay and forgery refused', async (t) => {
  const ts = await startTestServer({
    width: 8,
    height: 8,
    cooldownMs: 0,
    challenge: 'new',
    challengeEvery: 2,
    ...EASY,
  });
  t.after(() => ts.dispose());
  const alice = await session(ts.http);

  const refused = await place(ts.http, alice.cookie, { x: 1, y: 1, color: 2 });
  assert.equal(refused.status, 403, refused.body);
  assert.equal(refused.json().error, ErrorCode.CHALLENGE_REQUIRED);
  const challenge = challengeOf(refused);
  assert.equal(challenge.parameters.data?.id, alice.id, 'bound to the identity that asked');
  assert.equal(ts.server.canvas.seq, 0, 'nothing placed');

  const fetched = await httpRequest(`${ts.http}/api/challenge`, { headers: { Cookie: alice.cookie } });
  assert.equal(fetched.status, 200, fetched.body);
  assert.equal(fetched.headers['cache-control'], 'no-store');
  assert.deepEqual(fetched.json(), challenge, 'the open challenge is handed out again, not a new one');

  const pow = await solvePow(challenge);
  const first = await place(ts.http, alice.cookie, { x: 1, y: 1, color: 2, pow });
  assert.equal(first.status, 200, first.body);
  const after = await httpRequest(`${ts.http}/api/challenge`, { headers: { Cookie: alice.cookie } });
  assert.notDeepEqual(after.json(), challenge, 'a solution went through: the used challenge is not handed out again');
  assert.equal(first.json().challenge, undefined, 'one placement of the two paid for is left: no challenge yet');
  const second = await place(ts.http, alice.cookie, { x: 2, y: 1, color: 2 });
  assert.equal(second.status, 200, `the solution pays for two placements: ${second.body}`);
  const ahead = second.json().challenge as PowChallenge | undefined;
  assert.ok(ahead, `the ack that spends the last paid placement carries the next challenge: ${second.body}`);
  assert.equal(ahead.parameters.data?.id, alice.id);
  const third = await place(ts.http, alice.cookie, { x: 3, y: 1, color: 2 });
  assert.equal(third.json().error, ErrorCode.CHALLENGE_REQUIRED, third.body);

  const replayed = await place(ts.http, alice.cookie, { x: 3, y: 1, color: 2, pow });
  assert.equal(replayed.status, 403, replayed.body);
  assert.equal(replayed.json().error, ErrorCode.CHALLENGE_INVALID);
  assert.match(String(replayed.json().reason ?? replayed.body), /already used/);
  challengeOf(replayed);

  // Forged: a made-up solution to a real challenge, and a real solution with the difficulty edited.
  const next = challengeOf(third);
  const guessed = encodePow(next, { counter: 1, derivedKey: '00'.repeat(32) });
  const edited = JSON.parse(Buffer.from(await solvePow(next), 'base64').toString()) as {
    challenge: PowChallenge;
    solution: unknown;
  };
  edited.challenge.parameters.cost = 1;
  for (const forged of [guessed, Buffer.from(JSON.stringify(edited)).toString('base64'), 'bm90IGpzb24=']) {
    const res = await place(ts.http, alice.cookie, { x: 3, y: 1, color: 2, pow: forged });
    assert.equal(res.json().error, ErrorCode.CHALLENGE_INVALID, res.body);
  }
  const paid = await place(ts.http, alice.cookie, { x: 3, y: 1, color: 2, pow: await solvePow(ahead) });
  assert.equal(paid.status, 200, `the ack's challenge, solved, pays for the next placement: ${paid.body}`);
  const bad = await place(ts.http, alice.cookie, { x: 3, y: 1, color: 2, pow: 7 });
  assert.equal(bad.json().error, ErrorCode.INVALID_FIELD, 'pow must be a string');

  // Foreign: Bob cannot use a solution of a challenge issued to Alice.
  const bob = await session(ts.http);
  const foreign = await place(ts.http, bob.cookie, { x: 4, y: 1, color: 2, pow: await solvePow(next) });
  assert.equal(foreign.json().error, ErrorCode.CHALLENGE_INVALID, foreign.body);
  assert.match(foreign.body, /another identity/);
  assert.equal(ts.server.canvas.seq, 3, 'only the three paid placements landed');
});

test('--challenge new over the WebSocket: hello says a challenge is due, the error carries it, pow places', async (t) => {
  const ts = await startTestServer({ width: 8, height: 8, cooldownMs: 0, challenge: 'new', ...EASY });
  t.after(() => ts.dispose());
  const ws = await TestClient.connect(ts.ws);
  t.after(() => ws.close());
  const hello = await ws.nextOf('hello');
  assert.equal(hello.challenge, true);

  ws.send({ t: 'place', id: 1, x: 0, y: 0, c: 1 });
  const err = (await ws.nextOf('error')) as ErrorMsg;
  assert.equal(err.code, ErrorCode.CHALLENGE_REQUIRED);
  assert.equal(err.id, 1);
  assert.ok(err.challenge, 'the error carries the challenge');
  assert.equal(err.challenge.parameters.data?.id, hello.you);

  ws.send({ t: 'place', id: 2, x: 0, y: 0, c: 1, pow: await solvePow(err.challenge) });
  const ack = await ws.nextOf('ack');
  assert.equal(ack.id, 2);

  ws.send({ t: 'place', id: 3, x: 1, y: 0, c: 1, pow: 42 });
  const invalid = (await ws.nextOf('error')) as ErrorMsg;
  assert.equal(invalid.code, ErrorCode.INVALID_FIELD, 'pow must be a string');

  const again = await TestClient.connect(ts.ws, { cookie: `canvas_token=${hello.token}` });
  t.after(() => again.close());
  assert.equal((await again.nextOf('hello')).challenge, undefined, 'a solved identity is not asked again at hello');
});

test('--challenge always: every placement needs its own solution; off ignores pow entirely', async (t) => {
  const ts = await startTestServer({ width: 8, height: 8, cooldownMs: 0, challenge: 'always', ...EASY });
  t.after(() => ts.dispose());
  const alice = await session(ts.http);
  const refused = await place(ts.http, alice.cookie, { x: 1, y: 1, color: 2 });
  const placed = await place(ts.http, alice.cookie, {
    x: 1,
    y: 1,
    color: 2,
    pow: await solvePow(challengeOf(refused)),
  });
  assert.equal(placed.status, 200, placed.body);
  const unpaid = await place(ts.http, alice.cookie, { x: 2, y: 1, color: 2 });
  assert.equal(unpaid.json().error, ErrorCode.CHALLENGE_REQUIRED, 'the next one needs another');

  const off = await startTestServer({ width: 8, height: 8, cooldownMs: 0 });
  t.after(() => off.dispose());
  const bob = await session(off.http);
  const garbage = await place(off.http, bob.cookie, { x: 1, y: 1, color: 2, pow: 'not-a-solution' });
  assert.equal(garbage.status, 200, `with challenges off a pow is not looked at: ${garbage.body}`);
});

test('--challenge always over the WebSocket: each ack carries the next challenge, so only the first placement is refused', async (t) => {
  const ts = await startTestServer({ width: 8, height: 8, cooldownMs: 0, challenge: 'always', ...EASY });
  t.after(() => ts.dispose());
  const ws = await TestClient.connect(ts.ws);
  t.after(() => ws.close());
  await ws.nextOf('hello');
  ws.send({ t: 'place', id: 1, x: 0, y: 0, c: 1 });
  let challenge = ((await ws.nextOf('error')) as ErrorMsg).challenge;
  for (let id = 2; id <= 5; id++) {
    assert.ok(challenge, `a challenge for placement ${id}`);
    ws.send({ t: 'place', id, x: id, y: 0, c: 1, pow: await solvePow(challenge) });
    const ack = await ws.nextOf('ack');
    assert.equal(ack.id, id, 'placed without a refusal first');
    challenge = ack.challenge;
  }
  assert.equal(ts.server.canvas.seq, 4);
});

test('a solution is refused once its challenge expired, and parsePow refuses what is not a solved challenge', async () => {
  const secret = Buffer.alloc(32, 7);
  const issuer = new ChallengeIssuer(secret, { difficulty: 20, cost: 10, lifetimeMs: 60_000 });
  const verifier = issuer.verifier();
  const old = await issuer.issue('00000000000000aa', { now: Date.now() - 120_000 });
  const verdict = verifier.verify(await solvePow(old), '00000000000000aa');
  assert.deepEqual(verdict, { ok: false, why: 'expired' });

  const fresh = await issuer.issue('00000000000000bb');
  const pow = await solvePow(fresh);
  assert.deepEqual(verifier.verify(pow, '00000000000000bb'), { ok: true });
  assert.deepEqual(verifier.verify(pow, '00000000000000bb'), { ok: false, why: 'already used' });
  const otherServer = new ChallengeIssuer(Buffer.alloc(32, 8), { difficulty: 20, cost: 10, lifetimeMs: 60_000 });
  const theirs = await otherServer.issue('00000000000000bb');
  assert.deepEqual(verifier.verify(await solvePow(theirs), '00000000000000bb'), {
    ok: false,
    why: 'not signed by this server',
  });

  for (const text of ['', '[]', '{"challenge":{},"solution":{}}', '{"challenge":null}']) {
    assert.equal(parsePow(Buffer.from(text).toString('base64')), undefined, text);
  }
});

test("signed and verified in altcha-lib's format: its verifySolution accepts our challenges, ours accepts its; edits, wrong keys and malformed keys are refused", async () => {
  const secret = Buffer.alloc(32, 9);
  // The issuer's subkeys (defence/challenges.ts), so altcha-lib can sign and verify with the same.
  const subkey = (purpose: string) => createHmac('sha256', secret).update(`altcha:${purpose}`).digest('hex');
  const keys = { hmacSignatureSecret: subkey('challenge'), hmacKeySignatureSecret: subkey('key') };
  const issuer = new ChallengeIssuer(secret, { difficulty: 20, cost: 10, lifetimeMs: 60_000 });

  const ours = await issuer.issue('00000000000000cc');
  const solved = parsePow(await solvePow(ours));
  assert.ok(solved);
  const verdict = await verifySolution({ ...solved, deriveKey, ...keys });
  assert.equal(verdict.verified, true, `altcha-lib verifies what we issue: ${JSON.stringify(verdict)}`);

  const theirs = (await createChallenge({
    algorithm: 'PBKDF2/SHA-256',
    cost: 10,
    counter: 15,
    deriveKey,
    keyLength: 32,
    expiresAt: Math.floor(Date.now() / 1000) + 60,
    data: { id: '00000000000000cc' },
    ...keys,
  })) as PowChallenge;
  const pow = await solvePow(theirs);
  assert.deepEqual(issuer.verifier().verify(pow, '00000000000000cc'), { ok: true }, 'we verify what altcha-lib signs');

  const good = parsePow(pow);
  assert.ok(good);
  const edit = (f: (s: { challenge: PowChallenge; solution: { counter: number; derivedKey: string } }) => void) => {
    const copy = structuredClone(good);
    f(copy);
    return issuer.verifier().verify(encodePow(copy.challenge, copy.solution), '00000000000000cc');
  };
  assert.deepEqual(
    edit((s) => (s.challenge.parameters.cost = 1)),
    { ok: false, why: 'not signed by this server' },
  );
  assert.deepEqual(
    edit((s) => (s.solution.derivedKey = '00'.repeat(32))),
    { ok: false, why: 'not solved' },
  );
  assert.deepEqual(
    edit((s) => (s.solution.derivedKey = s.solution.derivedKey.toUpperCase())),
    {
      ok: false,
      why: 'not solved',
    },
  );
  assert.deepEqual(
    edit((s) => (s.solution.counter = 1.5)),
    { ok: false, why: 'not solved' },
  );
  assert.deepEqual(
    edit((s) => delete s.challenge.parameters.keySignature),
    { ok: false, why: 'not signed by this server' },
    'the signature covers the key signature',
  );
  const other = new ChallengeIssuer(Buffer.alloc(32, 1), { difficulty: 20, cost: 10, lifetimeMs: 60_000 });
  assert.deepEqual(other.verifier().verify(pow, '00000000000000cc'), { ok: false, why: 'not signed by this server' });
});

test('the gate: credits per identity, spent by placements, ended by time; a surge asks again', () => {
  const gate = new ChallengeGate({ mode: 'new', every: 2, ttlMs: 1000 });
  assert.equal(gate.needs('a', 0, undefined), true);
  gate.grant('a', 0);
  assert.equal(gate.needs('a', 10, undefined), false);
  gate.spend('a');
  assert.equal(gate.needs('a', 10, undefined), false);
  gate.spend('a');
  assert.equal(gate.needs('a', 10, undefined), true, 'spent');
  gate.grant('a', 100);
  assert.equal(gate.needs('a', 1100, undefined), true, 'ended by time');
  gate.grant('a', 2000);
  assert.equal(gate.needs('a', 2001, 2000), false, 'earned during the surge');
  assert.equal(gate.needs('a', 2500, 2400), true, 'earned before a surge began: asked again');
  const off = new ChallengeGate({ mode: 'off', every: 2, ttlMs: 1000 });
  assert.equal(off.needs('b', 0, undefined), false);
  assert.equal(off.needs('b', 0, 0), true, 'a surge asks even with challenges off');
});

test('through an edge: the edge issues the challenge, the writer verifies the solution', async (t) => {
  const { writer, edge, stop } = await startCluster(
    { 'tick-ms': 200, ...EASY_FLAGS },
    { width: 8, height: 8, 'cooldown-ms': 0, challenge: 'new', 'challenge-every': 2 },
  );
  t.after(stop);
  const alice = await session(edge.http);
  const refused = await place(edge.http, alice.cookie, { x: 1, y: 1, color: 2 });
  assert.equal(refused.json().error, ErrorCode.CHALLENGE_REQUIRED, refused.body);
  const pow = await solvePow(challengeOf(refused));
  const placed = await place(edge.http, alice.cookie, { x: 1, y: 1, color: 2, pow });
  assert.equal(placed.status, 200, placed.body);
  const replayed = await place(writer.http, alice.cookie, { x: 2, y: 1, color: 2, pow });
  assert.equal(replayed.json().error, ErrorCode.CHALLENGE_INVALID, 'used once, whichever process it reaches');

  // --challenge-every 2 on the writer: the second paid placement's ack, through the edge, carries
  // the next challenge, issued by the edge and verified by the writer.
  const second = await place(edge.http, alice.cookie, { x: 3, y: 1, color: 2 });
  assert.equal(second.status, 200, second.body);
  const ahead = second.json().challenge as PowChallenge | undefined;
  assert.ok(ahead, `the writer said the credit is spent and the edge attached a challenge: ${second.body}`);
  const third = await place(edge.http, alice.cookie, { x: 4, y: 1, color: 2, pow: await solvePow(ahead) });
  assert.equal(third.status, 200, third.body);
});

test('--address-limit-exempt verified: identities that solved a challenge are not held by their network', async (t) => {
  for (const exempt of ['off', 'verified'] as const) {
    const ts = await startTestServer({
      width: 8,
      height: 8,
      cooldownMs: 60_000,
      addressPlacements: 1,
      addressLimitExempt: exempt,
      challenge: 'new',
      ...EASY,
    });
    t.after(() => ts.dispose());
    const answers: number[] = [];
    // Two players behind one address (both from 127.0.0.1), each solving its own challenge.
    for (const [i, player] of [await session(ts.http), await session(ts.http)].entries()) {
      const challenge = await httpRequest(`${ts.http}/api/challenge`, { headers: { Cookie: player.cookie } });
      const pow = await solvePow(challenge.json() as unknown as PowChallenge);
      const placed = await place(ts.http, player.cookie, { x: i, y: 0, color: 2, pow });
      answers.push(placed.status);
      if (placed.status !== 200) assert.equal(placed.json().limit, 'network', placed.body);
    }
    assert.deepEqual(answers, exempt === 'verified' ? [200, 200] : [200, 429], `exempt ${exempt}`);
  }
});
