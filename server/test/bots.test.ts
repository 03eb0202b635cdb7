/**
 * Sanctioned bots (README "Sanctioned bots"), end to end: a moderator mints a bot, the bot places
 * over the WebSocket with its token under its own quota and region, pixel info names it, the
 * moderator revokes it, and every mint and revocation is in the audit log. The same scenario runs
 * on a standalone server and through an edge (a real Redis, a writer and an edge, each the CLI in its
 * own process), where the front only reads the token and the writer decides.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, MsgType, type ServerMessage } from '../../protocol/messages.ts';
import { type SmallCluster, startCluster } from '../../testkit/cluster.ts';
import { httpRequest, startTestServer, TestClient, type TestServer } from '../../testkit/fixture.ts';

const ADMIN = 'bots-admin-token';
const SIZE = 32;
/** The canvas's own cooldown: long, so a bot placing twice shows it runs on its own quota instead. */
const CANVAS_COOLDOWN_MS = 600_000;

interface Endpoints {
  http: string;
  ws: string;
}

interface MintedBot {
  id: string;
  token: string;
  name: string;
  everyMs: number;
  state: string;
  expires: number | null;
}

function scenario(endpoints: () => Endpoints): void {
  const admin = (path: string, body?: unknown) =>
    httpRequest(`${endpoints().http}/api/admin/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { Authorization: `Bearer ${ADMIN}` },
    });
  const mint = async (body: Record<string, unknown>): Promise<MintedBot> => {
    const res = await admin('bots', body);
    assert.equal(res.status, 200, res.body);
    return res.json() as unknown as MintedBot;
  };
  const pixel = async (x: number, y: number) => {
    const res = await httpRequest(`${endpoints().http}/api/pixel?x=${x}&y=${y}`);
    assert.equal(res.status, 200, res.body);
    return res.json();
  };
  const placeOverHttp = (token: string, x: number, y: number, color: number) =>
    httpRequest(`${endpoints().http}/api/pixel`, {
      method: 'POST',
      body: JSON.stringify({ x, y, color }),
      headers: { Authorization: `Bearer ${token}` },
    });
  let nextId = 1;
  /** Sends one place and returns its answer (ack or error). */
  const place = async (c: TestClient, x: number, y: number, color: number): Promise<ServerMessage> => {
    const id = nextId++;
    c.send({ t: MsgType.PLACE, id, x, y, c: color });
    return c.next((m) => (m.t === MsgType.ACK || m.t === MsgType.ERROR) && m.id === id);
  };

  test('a minted bot places over the WebSocket within its quota and region; pixel info names it', async () => {
    const region = { x: 2, y: 2, width: 3, height: 3 };
    const bot = await mint({ name: 'painter', everyMs: 60_000, region });
    assert.match(bot.token, /^bot\.[0-9a-f]{16}\./);
    assert.equal(bot.state, 'active');
    const c = await TestClient.connect(`${endpoints().ws}?token=${encodeURIComponent(bot.token)}`);
    try {
      const hello = await c.nextOf(MsgType.HELLO);
      assert.equal(hello.you, bot.id, "the bot's identity is its id");
      assert.equal(hello.token, undefined, 'no identity minted');

      const ack = await place(c, 3, 3, 5);
      assert.equal(ack.t, MsgType.ACK, JSON.stringify(ack));

      // Outside the region: refused before the quota, nothing placed.
      const outside = await place(c, 10, 10, 5);
      assert.equal(outside.t === MsgType.ERROR && outside.code, ErrorCode.OUTSIDE_REGION);
      assert.equal((await pixel(10, 10))['who'], null);

      // Inside, within everyMs: its own cooldown.
      const again = await place(c, 4, 4, 5);
      assert.equal(again.t === MsgType.ERROR && again.code, ErrorCode.COOLDOWN);
      assert.ok(again.t === MsgType.ERROR && (again.wait ?? 0) > 50_000, 'waits out everyMs');
      assert.equal((await pixel(4, 4))['who'], null);

      const info = await pixel(3, 3);
      assert.equal(info['who'], bot.id);
      assert.equal(info['bot'], 'painter');
    } finally {
      await c.close();
    }
  });

  test("a bot runs on its own quota, not the canvas's cooldown", async () => {
    const bot = await mint({ name: 'fast', everyMs: 100 });
    const c = await TestClient.connect(`${endpoints().ws}?token=${encodeURIComponent(bot.token)}`);
    try {
      await c.nextOf(MsgType.HELLO);
      const first = await place(c, 20, 20, 1);
      assert.equal(first.t, MsgType.ACK, JSON.stringify(first));
      assert.ok(first.t === MsgType.ACK && first.next - Date.now() <= 100);
      await delay(first.t === MsgType.ACK ? Math.max(0, first.next - Date.now()) + 20 : 0);
      const second = await place(c, 21, 20, 1);
      assert.equal(second.t, MsgType.ACK, `canvas cooldown is ${CANVAS_COOLDOWN_MS} ms: ${JSON.stringify(second)}`);
    } finally {
      await c.close();
    }
  });

  test('a forged bot token is refused, never given a fresh identity', async () => {
    const bot = await mint({ name: 'forged', everyMs: 1000 });
    // Its first signature character changed (the last one may carry only padding bits).
    const dot = bot.token.lastIndexOf('.') + 1;
    const forged = `${bot.token.slice(0, dot)}${bot.token[dot] === 'A' ? 'B' : 'A'}${bot.token.slice(dot + 1)}`;
    const overHttp = await placeOverHttp(forged, 1, 1, 1);
    assert.equal(overHttp.status, 401, overHttp.body);
    assert.equal(overHttp.headers['set-cookie'], undefined);
    await assert.rejects(TestClient.connect(`${endpoints().ws}?token=${encodeURIComponent(forged)}`), /401/);
    assert.equal((await pixel(1, 1))['who'], null);
  });

  test('a revoked bot places nothing; mint and revocation are audited without the token', async () => {
    const bot = await mint({ name: 'revoked', everyMs: 100 });
    const placed = await placeOverHttp(bot.token, 6, 6, 2);
    assert.equal(placed.status, 200, placed.body);
    const revoked = await admin('bots/revoke', { id: bot.id });
    assert.equal(revoked.status, 200, revoked.body);
    assert.equal(revoked.json()['wasActive'], true);
    const refused = await placeOverHttp(bot.token, 7, 6, 2);
    assert.equal(refused.status, 403, refused.body);
    assert.equal(refused.json()['error'], ErrorCode.BOT_REVOKED);
    // Old pixels still name the bot.
    assert.equal((await pixel(6, 6))['bot'], 'revoked');

    const list = (await admin('bots')).json()['bots'] as Array<Record<string, unknown>>;
    assert.equal(list.find((b) => b['id'] === bot.id)?.['state'], 'revoked');

    const audit = await admin('audit');
    assert.ok(!audit.body.includes(bot.token), 'the token is never audited');
    const entries = audit.json()['entries'] as Array<Record<string, unknown>>;
    const mintEntry = entries.find((e) => e['action'] === 'bot-mint' && (e['result'] as { id: string }).id === bot.id);
    assert.deepEqual(mintEntry?.['params'], { name: 'revoked', everyMs: 100 });
    const revokeEntry = entries.find((e) => e['action'] === 'bot-revoke');
    assert.deepEqual(revokeEntry?.['params'], { id: bot.id });
    assert.match(String(revokeEntry?.['actor']), /^admin@/);
  });

  test('a bot places nothing once it expires', async () => {
    const bot = await mint({ name: 'brief', everyMs: 100, seconds: 1 });
    assert.ok(bot.expires !== null);
    const placed = await placeOverHttp(bot.token, 8, 8, 3);
    assert.equal(placed.status, 200, placed.body);
    // Expiry is a time, not an event: wait until it has passed.
    await delay(Math.max(0, (bot.expires ?? 0) - Date.now()) + 50);
    const refused = await placeOverHttp(bot.token, 9, 8, 3);
    assert.equal(refused.json()['error'], ErrorCode.BOT_REVOKED, refused.body);
  });

  test('bad mint input is refused', async () => {
    const outside = await admin('bots', { name: 'x', everyMs: 1000, region: { x: 30, y: 0, width: 5, height: 1 } });
    assert.equal(outside.status, 400, outside.body);
    assert.equal(outside.json()['error'], ErrorCode.OUT_OF_BOUNDS);
    const tooFast = await admin('bots', { name: 'x', everyMs: 5 });
    assert.equal(tooFast.json()['error'], ErrorCode.INVALID_FIELD, tooFast.body);
    const noName = await admin('bots', { everyMs: 1000 });
    assert.equal(noName.json()['error'], ErrorCode.INVALID_FIELD, noName.body);
    const unknown = await admin('bots/revoke', { id: '0123456789abcdef' });
    assert.equal(unknown.status, 404, unknown.body);
  });
}

describe('sanctioned bots on a standalone server', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ width: SIZE, height: SIZE, adminToken: ADMIN, cooldownMs: CANVAS_COOLDOWN_MS });
  });
  after(() => ts?.dispose());
  scenario(() => ts);
});

describe('sanctioned bots through an edge', () => {
  let cluster: SmallCluster;
  before(async () => {
    cluster = await startCluster(
      { 'tick-ms': 100, 'admin-token': ADMIN, 'cooldown-ms': CANVAS_COOLDOWN_MS },
      { width: SIZE, height: SIZE },
    );
  });
  after(() => cluster?.stop());
  scenario(() => cluster.edge);
});
