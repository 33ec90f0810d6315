/** The unit every per-address limit counts (L2, R3, T6, K3): an IPv4 address itself, an IPv6 address's /64. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressBucket } from '../../src/security/address-bucket.ts';

test('L2 R3: IPv4 and IPv4-mapped IPv6 (dotted or hex) are the address itself', () => {
  assert.equal(addressBucket('192.0.2.1'), '192.0.2.1');
  assert.equal(addressBucket('192.0.2.2'), '192.0.2.2', 'neighbours in a /24 are not merged');
  assert.equal(addressBucket('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(addressBucket('::FFFF:c000:0201'), '192.0.2.1');
});

test('L2 R3: every address of one IPv6 /64 is one unit, however it is written; another /64 is another', () => {
  const unit = '2001:db8:1:2::/64';
  for (const ip of [
    '2001:db8:1:2::10',
    '2001:db8:1:2::11',
    '2001:0DB8:0001:0002:ffff:ffff:ffff:ffff',
    '2001:db8:1:2:abcd::1',
    '2001:db8:1:2::1%eth0',
  ]) {
    assert.equal(addressBucket(ip), unit, ip);
  }
  assert.equal(addressBucket('2001:db8:1:3::10'), '2001:db8:1:3::/64');
  assert.equal(addressBucket('2001:db8::1'), '2001:db8:0:0::/64');
  assert.equal(addressBucket('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64', 'NAT64 is IPv6, not the embedded IPv4');
});

test('L2: what is not an address stays its own unit', () => {
  assert.equal(addressBucket('unknown'), 'unknown');
  assert.equal(addressBucket(''), '');
});
