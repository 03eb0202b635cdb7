/** Address parsing: canonical text, trusted-proxy ranges, X-Forwarded-For and rate-limit keys. No server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addressKey,
  canonicalIp,
  clientAddress,
  formatIpRanges,
  ipRangeList,
  parseIpRanges,
  type AddressPolicy,
} from '../identity/client-address.ts';

function policy(trusted = '', ipv4Prefix = 32, ipv6Prefix = 64): AddressPolicy {
  return { trustedProxies: ipRangeList(parseIpRanges(trusted)), ipv4Prefix, ipv6Prefix };
}

test('every spelling of an IPv4-mapped address becomes the dotted IPv4 address', () => {
  for (const spelling of [
    '0000:0000:0000:0000:0000:ffff:7f00:0001', // what uWS reports on a dual-stack listener
    '0000:0000:0000:0000:0000:FFFF:7F00:0001',
    '::ffff:7f00:1',
    '::FFFF:7F00:1',
    '::ffff:127.0.0.1',
    '0:0:0:0:0:ffff:127.0.0.1',
    '0::ffff:7f00:0001',
    ' ::ffff:127.0.0.1 ',
    '127.0.0.1',
  ]) {
    assert.equal(canonicalIp(spelling), '127.0.0.1', spelling);
  }
  assert.equal(canonicalIp('::ffff:c633:6407'), '198.51.100.7');
});

test('IPv6 addresses become RFC 5952 text: lower case, no leading zeros, longest zero run as ::', () => {
  const cases: Array<[string, string]> = [
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['::1', '::1'],
    ['::', '::'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // a tie: the first run is shortened
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
    ['fd00:0:0:0:0:0:0:0', 'fd00::'],
    ['::2:3', '::2:3'], // not the IPv4-compatible form ::0.2.0.3
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'], // IPv4-translated, not mapped: stays IPv6
    ['fe80::1%eth0', 'fe80::1'],
  ];
  for (const [given, want] of cases) assert.equal(canonicalIp(given), want, given);
});

test('text that is not an IP address has no canonical form', () => {
  for (const text of [
    '',
    'localhost',
    '127.0.0.01',
    '1.2.3',
    '1.2.3.4.5',
    '::ffff:1.2.3',
    '12345::',
    ':::1',
    'unknown',
  ]) {
    assert.equal(canonicalIp(text), undefined, text);
  }
});

test('a dual-stack peer is keyed by its IPv4 address, an IPv6 peer by its /64', () => {
  const p = policy();
  assert.equal(addressKey(clientAddress('0000:0000:0000:0000:0000:ffff:7f00:0001', '', p), p), '127.0.0.1/32');
  assert.equal(addressKey(clientAddress('0000:0000:0000:0000:0000:ffff:7f00:0002', '', p), p), '127.0.0.2/32');
  assert.equal(
    addressKey(clientAddress('2001:0db8:0000:0001:0000:0000:0000:0042', '', p), p),
    '2001:db8:0:1:0:0:0:0/64',
  );
  assert.equal(
    addressKey(clientAddress('0000:0000:0000:0000:0000:ffff:0a01:0203', '', policy('', 24)), policy('', 24)),
    '10.1.2.0/24',
  );
});

test('trusted proxies given as addresses or CIDR ranges match every spelling of the peer', () => {
  const p = policy('10.0.0.0/8, fd00::/8, 2001:DB8::0001, 192.0.2.1');
  const cases: Array<[string, string]> = [
    ['0000:0000:0000:0000:0000:ffff:0a09:0909', '198.51.100.7'], // 10.9.9.9 on a dual-stack listener
    ['::ffff:192.0.2.1', '198.51.100.7'],
    ['fd12:3456::1', '198.51.100.7'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '198.51.100.7'],
  ];
  for (const [peer, want] of cases) assert.equal(clientAddress(peer, '198.51.100.7', p), want, peer);
  assert.equal(
    clientAddress('0000:0000:0000:0000:0000:ffff:0b00:0001', '198.51.100.7', p),
    '11.0.0.1',
    'outside the ranges',
  );
  assert.equal(clientAddress('2001:db8::2', '198.51.100.7', p), '2001:db8::2');
});

test('X-Forwarded-For hops are canonical, walked right to left through trusted proxies', () => {
  const p = policy('10.0.0.0/8');
  assert.equal(clientAddress('10.0.0.1', '203.0.113.9, 198.51.100.7, ::ffff:10.0.0.2', p), '198.51.100.7');
  assert.equal(clientAddress('10.0.0.1', '2001:0DB8::0001', p), '2001:db8::1');
  assert.equal(clientAddress('10.0.0.1', '198.51.100.7, garbage', p), '10.0.0.1', 'stops at what it cannot read');
});

test('X-Forwarded-For hops with ports, brackets or quotes name their address; unknown ones are reported', () => {
  const unparsable: string[] = [];
  const p = { ...policy('10.0.0.0/8'), unparsableHop: (hop: string) => unparsable.push(hop) };
  const cases: Array<[string, string]> = [
    ['192.0.2.1:40000', '192.0.2.1'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['"[2001:db8::1]:443"', '2001:db8::1'],
    ['"192.0.2.1"', '192.0.2.1'],
    ['203.0.113.9, 192.0.2.1:40000', '192.0.2.1'],
    ['198.51.100.7, 10.0.0.9:3128', '198.51.100.7'], // a trusted hop with a port is walked past
  ];
  for (const [header, want] of cases) assert.equal(clientAddress('10.0.0.1', header, p), want, header);
  assert.deepEqual(unparsable, []);
  for (const bad of ['unknown', '192.0.2.1:', '[192.0.2.1]:80', '300.1.1.1:80', '[2001:db8::1', '_hidden']) {
    assert.equal(clientAddress('10.0.0.1', bad, p), '10.0.0.1', bad);
  }
  assert.deepEqual(unparsable, ['unknown', '192.0.2.1:', '[192.0.2.1]:80', '300.1.1.1:80', '[2001:db8::1', '_hidden']);
});

test('trusted-proxy lists parse to canonical ranges and format back to the same list', () => {
  const ranges = parseIpRanges(' 10.0.0.0/8 ,FD00::/8,::ffff:10.0.0.0/104, 0000::0001 ,,');
  assert.deepEqual(ranges, [
    { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
    { address: 'fd00::', prefix: 8, family: 'ipv6' },
    { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
    { address: '::1', prefix: 128, family: 'ipv6' },
  ]);
  assert.ok(Object.isFrozen(ranges) && ranges.every((r) => Object.isFrozen(r)));
  assert.equal(formatIpRanges(ranges), '10.0.0.0/8,fd00::/8,10.0.0.0/8,::1');
  assert.deepEqual(parseIpRanges(formatIpRanges(ranges)), ranges);
  assert.deepEqual(parseIpRanges(''), []);
});

test('a bad trusted-proxy entry is refused, naming it', () => {
  for (const bad of [
    'proxy.example',
    '10.0.0.0/33',
    'fd00::/129',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '::ffff:10.0.0.0/64',
    '300.0.0.1',
  ]) {
    assert.throws(
      () => parseIpRanges(`127.0.0.1,${bad}`),
      (err: Error) => err.message.includes(`"${bad}"`),
      bad,
    );
  }
});
