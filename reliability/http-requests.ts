/**
 * Malformed and abusive HTTP/1.1 requests, as raw bytes: broken request lines, bad header syntax,
 * lying or conflicting lengths, broken chunked bodies, huge URLs and headers, odd methods and
 * upgrades. The server may answer each with any status below 500 or by closing the connection;
 * a 5xx or no answer at all is a failure.
 */
import type { Rng } from '../testkit/rng.ts';

export interface BadRequest {
  name: string;
  bytes: Buffer;
}

const H = 'Host: 127.0.0.1\r\n';

function req(name: string, text: string): BadRequest {
  return { name, bytes: Buffer.from(text, 'latin1') };
}

export function badRequests(rng: Rng): BadRequest[] {
  const big = (n: number) => 'a'.repeat(n);
  const manyHeaders = Array.from({ length: 10_000 }, (_, i) => `X-H${i}: ${i}\r\n`).join('');
  const deepJson = '['.repeat(900) + ']'.repeat(900);
  return [
    req('garbage line', 'garbage\r\n\r\n'),
    { name: 'random bytes', bytes: Buffer.from(rng.bytes(2048)) },
    { name: 'NUL bytes', bytes: Buffer.alloc(1024) },
    req('method only', 'GET\r\n\r\n'),
    req('no version', 'GET /image\r\n\r\n'),
    req('HTTP/9.9', `GET /image HTTP/9.9\r\n${H}\r\n`),
    req('HTTP/1.0 without Host', 'GET /image HTTP/1.0\r\n\r\n'),
    req('HTTP/1.1 without Host', 'GET /image HTTP/1.1\r\n\r\n'),
    req('unknown method', `FOO /image HTTP/1.1\r\n${H}\r\n`),
    req('very long method', `${big(10_000)} /image HTTP/1.1\r\n${H}\r\n`),
    req('lowercase method', `get /image HTTP/1.1\r\n${H}\r\n`),
    req('header without colon', `GET /image HTTP/1.1\r\n${H}Broken header\r\n\r\n`),
    req('space before colon', `GET /image HTTP/1.1\r\n${H}X-A : b\r\n\r\n`),
    req('obs-fold', `GET /image HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n`),
    req('LF only', 'GET /image HTTP/1.1\nHost: x\n\n'),
    req('NUL in URL', `GET /im\0age HTTP/1.1\r\n${H}\r\n`),
    req('control chars in URL', `GET /\x01\x7f HTTP/1.1\r\n${H}\r\n`),
    req('bad percent escapes', `GET /image%zz%%%00 HTTP/1.1\r\n${H}\r\n`),
    req('absolute-form URL', `GET http://127.0.0.1/image HTTP/1.1\r\n${H}\r\n`),
    req('asterisk-form OPTIONS', `OPTIONS * HTTP/1.1\r\n${H}\r\n`),
    req('CONNECT', `CONNECT 127.0.0.1:443 HTTP/1.1\r\n${H}\r\n`),
    req('TRACE', `TRACE /image HTTP/1.1\r\n${H}\r\n`),
    req('URL of 100 KB', `GET /${big(100_000)} HTTP/1.1\r\n${H}\r\n`),
    req(
      'query of 10,000 params',
      `GET /api/pixel?${Array.from({ length: 10_000 }, (_, i) => `x${i}=${i}`).join('&')} HTTP/1.1\r\n${H}\r\n`,
    ),
    req('pixel lookup with odd numbers', `GET /api/pixel?x=1e309&y=-0 HTTP/1.1\r\n${H}\r\n`),
    req('one 1 MB header', `GET /image HTTP/1.1\r\n${H}X-Big: ${big(1 << 20)}\r\n\r\n`),
    req('header name of 64 KB', `GET /image HTTP/1.1\r\n${H}${big(65_536)}: 1\r\n\r\n`),
    req('10,000 headers', `GET /image HTTP/1.1\r\n${H}${manyHeaders}\r\n`),
    req('huge cookie', `GET / HTTP/1.1\r\n${H}Cookie: canvas_token=${big(200_000)}\r\n\r\n`),
    req(
      'forged bearer token',
      `POST /api/pixel HTTP/1.1\r\n${H}Authorization: Bearer ${big(5000)}\r\n` +
        'Content-Length: 23\r\n\r\n{"x":1,"y":1,"color":1}',
    ),
    req('Content-Length -1', `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n{}`),
    req('Content-Length 2^64', `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: 99999999999999999999\r\n\r\n{}`),
    req('Content-Length abc', `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: abc\r\n\r\n{}`),
    req('two Content-Lengths', `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: 2\r\nContent-Length: 30\r\n\r\n{}`),
    req(
      'Content-Length and chunked',
      `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ),
    req('bad chunk size', `POST /api/pixel HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`),
    req(
      'chunk size overflow',
      `POST /api/pixel HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n{}\r\n`,
    ),
    req(
      'valid chunked body',
      `POST /api/pixel HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n17\r\n{"x":1,"y":2,"color":3}\r\n0\r\n\r\n`,
    ),
    req('body of 2 MB', `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: ${2 << 20}\r\n\r\n${big(2 << 20)}`),
    req('deeply nested JSON', `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: ${deepJson.length}\r\n\r\n${deepJson}`),
    req(
      'JSON with __proto__',
      `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: 46\r\n\r\n{"__proto__":{"x":1},"y":1,"color":1,"x":null}`,
    ),
    req(
      'JSON floats and NaN',
      `POST /api/pixel HTTP/1.1\r\n${H}Content-Length: 32\r\n\r\n{"x":1.5,"y":NaN,"color":1e999}`,
    ),
    req(
      'Expect: 100-continue',
      `POST /api/pixel HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 23\r\n\r\n{"x":1,"y":1,"color":1}`,
    ),
    req('admin without token', `POST /api/admin/wipe HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\n{}`),
    req(
      'upgrade without key',
      `GET /ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    ),
    req(
      'upgrade, bad version',
      `GET /ws HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${big(300)}\r\nSec-WebSocket-Version: 99\r\n\r\n`,
    ),
    req(
      'upgrade, bad stream',
      `GET /ws?stream=${big(5000)}&since=-1 HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ),
    req(
      'upgrade on /image',
      `GET /image HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    ),
    req('h2c preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
    req('TLS ClientHello', `\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03${big(500)}`),
    req('valid then garbage', `GET /healthz HTTP/1.1\r\n${H}\r\n\x00\x01\x02garbage\r\n\r\n`),
  ];
}
