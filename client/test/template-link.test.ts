import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatLink, parseLink } from '../src/link/position-link.ts';
import {
  DEFAULT_OPACITY,
  formatTemplate,
  parseTemplate,
  templateFailureText,
  templateSize,
  templateSource,
} from '../src/templates/template-link.ts';

const URL_ENCODED = 'https%3A%2F%2Fexample.com%2Fart.png';

test('parseTemplate reads a Pxls template link, decoding the image address', () => {
  assert.deepEqual(parseTemplate(`#x=1&y=2&template=${URL_ENCODED}&ox=3&oy=4&tw=64&oo=0.8&title=My%20art`), {
    url: 'https://example.com/art.png',
    ox: 3,
    oy: 4,
    width: 64,
    opacity: 0.8,
    title: 'My art',
  });
});

test('parseTemplate: no template is null; missing or bad numbers take the defaults', () => {
  assert.equal(parseTemplate(''), null);
  assert.equal(parseTemplate('#x=1&y=2&ox=3'), null);
  assert.equal(parseTemplate('#template=&ox=3'), null);
  assert.deepEqual(parseTemplate('template=a.png&ox=abc&oy=1e3&tw=0&oo=NaN'), {
    url: 'a.png',
    ox: 0,
    oy: 0,
    width: null,
    opacity: DEFAULT_OPACITY,
    title: null,
  });
});

test('parseTemplate clamps opacity to 0..1, floors offsets (negative allowed) and keeps a stray %', () => {
  const t = parseTemplate('#template=a%2.png&ox=-5.5&oy=7.9&tw=12.7&oo=3');
  assert.deepEqual(t, { url: 'a%2.png', ox: -6, oy: 7, width: 12, opacity: 1, title: null });
  assert.equal(parseTemplate('#template=a.png&oo=0')?.opacity, 0);
});

test('formatTemplate replaces only the template parameters and keeps the position link first', () => {
  const hash = `#x=10&y=20&scale=8&template=old.png&ox=1&oy=1&foo=bar`;
  const t = { url: 'https://example.com/art.png', ox: 3, oy: -4, width: 64, opacity: 0.5, title: null };
  assert.equal(formatTemplate(hash, t), `x=10&y=20&scale=8&foo=bar&template=${URL_ENCODED}&ox=3&oy=-4&tw=64&oo=0.5`);
  assert.equal(formatTemplate(hash, null), 'x=10&y=20&scale=8&foo=bar');
  assert.equal(formatTemplate('', { ...t, width: null, opacity: 1 / 3 }), `template=${URL_ENCODED}&ox=3&oy=-4&oo=0.33`);
});

test('a formatted template parses back, and the view following the position link keeps it', () => {
  const t = { url: 'https://example.com/a b.png?x=1&y=2', ox: 7, oy: 9, width: 30, opacity: 0.25, title: 'Ünï' };
  const hash = formatTemplate('#x=1&y=1&scale=2', t);
  assert.deepEqual(parseTemplate(hash), t);
  const moved = formatLink(hash, { x: 40, y: 50, scale: 16, colour: 3 });
  assert.deepEqual(parseTemplate(moved), t, 'template params survive the view moving');
  assert.deepEqual(parseLink(moved), { x: 40, y: 50, scale: 16, colour: 3 }, 'and the position is not confused by it');
});

test('templateSource resolves relative addresses and lets through only image-loading schemes', () => {
  const base = 'http://canvas.example/#x=1';
  assert.equal(templateSource('/t/a.png', base), 'http://canvas.example/t/a.png');
  assert.equal(templateSource('https://i.example/a.png', base), 'https://i.example/a.png');
  assert.equal(templateSource('data:image/png;base64,AAAA', base), 'data:image/png;base64,AAAA');
  assert.equal(templateSource('data:text/html,<b>', base), null);
  assert.equal(templateSource('javascript:alert(1)', base), null);
  assert.equal(templateSource('http://[bad', base), null);
});

test('a failed template names its failure: missing CORS, an error status, not an image, no answer', () => {
  const src = 'https://i.example/a.png';
  const cors = templateFailureText({ kind: 'cors' }, src);
  assert.match(cors, /i\.example.*CORS.*Access-Control-Allow-Origin/s);
  assert.match(cors, /a file from this device/, 'offers the way round it');
  assert.match(templateFailureText({ kind: 'http', status: 404 }, src), /i\.example answered 404 \(no such image\)/);
  assert.match(templateFailureText({ kind: 'http', status: 403 }, src), /answered 403\./);
  assert.match(templateFailureText({ kind: 'not-image' }, src), /not with an image/);
  assert.match(templateFailureText({ kind: 'unreachable' }, src), /i\.example could not be reached/);
  for (const kind of ['http', 'not-image', 'unreachable'] as const) {
    assert.doesNotMatch(templateFailureText({ kind, status: 404 }, src), /CORS/, `${kind} is not a CORS problem`);
  }
  assert.match(templateFailureText({ kind: 'not-image' }, 'data:image/png;base64,AAAA'), /its server/);
});

test('templateSize scales to the requested width and keeps the aspect ratio', () => {
  assert.deepEqual(templateSize({ width: null }, { width: 40, height: 20 }), { w: 40, h: 20 });
  assert.deepEqual(templateSize({ width: 10 }, { width: 40, height: 20 }), { w: 10, h: 5 });
  assert.deepEqual(templateSize({ width: 3 }, { width: 300, height: 1 }), { w: 3, h: 1 }, 'never 0 high');
});
