import { isPublicAddress, nonPublicReason } from './network-addresses';

/** Which addresses a merchant's webhook may reach: only the public internet. */
describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true],
    ['93.184.216.34', true],
    ['172.32.0.1', true],
    ['100.128.0.1', true],
    ['2606:4700:4700::1111', true],
    ['::ffff:8.8.8.8', true],
    ['64:ff9b::808:808', true],
    ['2002:808:808::1', true],
  ])('when %s is checked, then it is public (%s)', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it.each([
    ['127.0.0.1', 'IPv4 loopback'],
    ['127.255.255.254', 'IPv4 loopback, end of range'],
    ['10.1.2.3', 'private 10/8'],
    ['172.16.0.1', 'private 172.16/12'],
    ['172.31.255.255', 'private 172.16/12, end of range'],
    ['192.168.1.1', 'private 192.168/16'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['198.18.0.1', 'benchmarking'],
    ['192.0.2.10', 'documentation'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'IPv6 link-local with a zone'],
    ['fd12:3456::1', 'IPv6 unique local'],
    ['fc00::1', 'IPv6 unique local (fc)'],
    ['ff02::1', 'IPv6 multicast'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex form'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::127.0.0.1', 'IPv4-compatible loopback'],
    ['64:ff9b::a00:1', 'NAT64 of a private address'],
    ['64:ff9b::127.0.0.1', 'NAT64 of loopback, dotted'],
    ['2002:a9fe:a9fe::1', '6to4 of link-local'],
    ['localhost', 'a name, not an address'],
    ['not an address', 'garbage'],
  ])('when %s (%s) is checked, then it is not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });
});

describe('nonPublicReason', () => {
  it('when a name resolves to loopback, then it is refused; a public literal is not', async () => {
    await expect(nonPublicReason('localhost')).resolves.toMatch(/not a public address/);
    await expect(nonPublicReason('127.0.0.1')).resolves.toMatch(/not a public address/);
    await expect(nonPublicReason('::1')).resolves.toMatch(/not a public address/);
    await expect(nonPublicReason('93.184.216.34')).resolves.toBeUndefined();
  });

  it('when a name does not resolve, then it is refused', async () => {
    await expect(nonPublicReason('no-such-host.invalid')).resolves.toMatch(/does not resolve/);
  });
});
