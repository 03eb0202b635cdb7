import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ErrorCode } from '../../protocol/messages.ts';
import { httpRequest, startTestServer, TestClient, type TestServer } from '../../testkit/fixture.ts';

let ts: TestServer;
before(async () => {
  ts = await startTestServer({ width: 10, height: 10, cooldownMs: 0, adminToken: 'sesame' });
});
after(() => ts.dispose());

/** POSTs `{"x":X,"y":Y,"color":C}` with each value written as the given JSON literal text. */
function postLiterals(x: string, y: string, color: string) {
  return httpRequest(`${ts.http}/api/pixel`, {
    method: 'POST',
    body: `{"x":${x},"y":${y},"color":${color}}`,
    headers: { 'Content-Type': 'application/json' },
  });
}

async function lookupWho(x: number, y: number): Promise<unknown> {
  return (await httpRequest(`${ts.http}/api/pixel?x=${x}&y=${y}`)).json()['who'];
}

test(
  'POST /api/pixel refuses 1.0, 1e0, -0, 1E0, 10.5, ' +
    '"1" and integers beyond 32 bits as invalid_field and places nothing',
  async () => {
    const seqBefore = ts.server.canvas.seq;
    const literals = [
      '1.0',
      '1e0',
      '-0',
      '1E0',
      '10.5',
      '"1"',
      '-0.0',
      '1e400',
      '4294967296',
      '-2147483649',
      '9007199254740993',
    ];
    for (const literal of literals) {
      for (const field of ['x', 'y', 'color'] as const) {
        const res = await postLiterals(
          field === 'x' ? literal : '1',
          field === 'y' ? literal : '1',
          field === 'color' ? literal : '1',
        );
        assert.equal(res.status, 400, `${field}: ${literal} -> ${res.body}`);
        assert.equal(res.json()['error'], ErrorCode.INVALID_FIELD, `${field}: ${literal}`);
      }
    }
    assert.equal(ts.server.canvas.seq, seqBefore, 'nothing placed');
    assert.equal(await lookupWho(1, 1), null, 'pixel (1, 1) never placed');
    assert.equal(await lookupWho(0, 1), null, 'nor (0, 1), which -0 would hit');

    const one = await postLiterals('1', '0', '1');
    assert.equal(one.status, 200, one.body);
    const zero = await postLiterals('0', '1', '0');
    assert.equal(zero.status, 200, zero.body);
    assert.equal(ts.server.canvas.seq, seqBefore + 2);
    assert.notEqual(await lookupWho(0, 1), null);
  },
);

test('HTTP and WebSocket placement answer the same code for the same number', async () => {
  const ws = await TestClient.connect(ts.ws);
  // [MessagePack encoding, the JSON literal for the same number, code as x, code as the colour]
  const cases: Array<[string, string, ErrorCode, ErrorCode]> = [
    ['ceffffffff', '4294967295', ErrorCode.OUT_OF_BOUNDS, ErrorCode.BAD_COLOR], // uint32 max
    ['d280000000', '-2147483648', ErrorCode.OUT_OF_BOUNDS, ErrorCode.BAD_COLOR], // int32 min
    ['ff', '-1', ErrorCode.OUT_OF_BOUNDS, ErrorCode.BAD_COLOR],
    ['cf0000000100000000', '4294967296', ErrorCode.INVALID_FIELD, ErrorCode.INVALID_FIELD], // uint64
    ['d3ffffffff7fffffff', '-2147483649', ErrorCode.INVALID_FIELD, ErrorCode.INVALID_FIELD], // int64
    ['cb3ff0000000000000', '1.0', ErrorCode.INVALID_FIELD, ErrorCode.INVALID_FIELD], // float64 1.0
    ['cb8000000000000000', '-0', ErrorCode.INVALID_FIELD, ErrorCode.INVALID_FIELD], // float64 -0.0
    ['a131', '"1"', ErrorCode.INVALID_FIELD, ErrorCode.INVALID_FIELD],
    ['c0', 'null', ErrorCode.INVALID_FIELD, ErrorCode.INVALID_FIELD],
  ];
  let id = 100;
  const overWs = async (xHex: string, cHex: string): Promise<string> => {
    id++;
    ws.socket.send(Buffer.from(`85a174a5706c616365a26964cc${id.toString(16)}a178${xHex}a17901a163${cHex}`, 'hex'));
    const answer = await ws.next((m) => (m.t === 'error' || m.t === 'ack') && m.id === id);
    return answer.t === 'error' ? answer.code : answer.t;
  };
  const overHttp = async (x: string, color: string): Promise<unknown> => {
    const res = await postLiterals(x, '1', color);
    return res.status === 200 ? 'ack' : res.json()['error'];
  };
  const seqBefore = ts.server.canvas.seq;
  for (const [hex, literal, asX, asColor] of cases) {
    assert.equal(await overWs(hex, '01'), asX, `ws x ${hex}`);
    assert.equal(await overHttp(literal, '1'), asX, `http x ${literal}`);
    assert.equal(await overWs('01', hex), asColor, `ws c ${hex}`);
    assert.equal(await overHttp('1', literal), asColor, `http color ${literal}`);
  }
  assert.equal(ts.server.canvas.seq, seqBefore, 'nothing placed');
  assert.equal(await overWs('09', '0f'), 'ack');
  assert.equal(await overHttp('9', '15'), 'ack');
  await ws.close();
});

test('admin integer fields refuse 1.0, 1e0 and -0 like placement does', async () => {
  const post = (path: string, body: string) =>
    httpRequest(`${ts.http}/api/admin/${path}`, { method: 'POST', body, headers: { Authorization: 'Bearer sesame' } });
  const seqBefore = ts.server.canvas.seq;
  for (const literal of ['1.0', '1e0', '-0', '2E0']) {
    for (const field of ['x', 'y', 'width', 'height', 'color']) {
      const values: Record<string, string> = { x: '0', y: '0', width: '2', height: '2', color: '3', [field]: literal };
      const res = await post(
        'wipe',
        `{${Object.entries(values)
          .map(([k, v]) => `"${k}":${v}`)
          .join(',')}}`,
      );
      assert.equal(res.status, 400, `wipe ${field}: ${literal} -> ${res.body}`);
      assert.equal(res.json()['error'], ErrorCode.INVALID_FIELD);
    }
    const rollback = await post('rollback', `{"id":"0123456789abcdef","since":${literal}}`);
    assert.equal(rollback.status, 400, `rollback since ${literal} -> ${rollback.body}`);
  }
  assert.equal(ts.server.canvas.seq, seqBefore, 'no wipe applied');
  const ok = await post('wipe', '{"x":0,"y":0,"width":2,"height":2,"color":3}');
  assert.equal(ok.status, 200, ok.body);
});
