import type { LookupAddress, LookupOptions } from 'node:dns';
import { lookup as dnsLookupAsync } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Which addresses a webhook may reach. Merchants choose the URL, so without this
 * check the platform could be made to probe its own network (SSRF): loopback,
 * private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
 * multicast, documentation and reserved ranges are all refused.
 */
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 96], // unspecified, loopback (::1) and the deprecated IPv4-compatible form
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, benchmarking, ORCHID…)
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}
// IPv4-mapped IPv6 (::ffff:a.b.c.d) is matched against the IPv4 rules by BlockList itself.

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined if it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const plain = address.split('%')[0] ?? '';
  if (isIP(plain) !== 6) return undefined;
  let text = plain;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const octets = dotted[1].split('.').map(Number);
    const [a = 0, b = 0, c = 0, d = 0] = octets;
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 ? groups : undefined;
}

/** The IPv4 address that NAT64 (64:ff9b::/96) and 6to4 (2002::/16) addresses carry inside them. */
function embeddedIpv4(groups: number[]): string | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const quad = (high: number, low: number) => `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return quad(g6, g7);
  if (g0 === 0x2002) return quad(g1, g2);
  return undefined;
}

/** True when `address` is an IP address on the public internet; false for anything else (names included). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address.split('%')[0] ?? '');
  if (family === 4) return !NON_PUBLIC.check(address, 'ipv4');
  if (family !== 6) return false;
  const groups = ipv6Groups(address);
  if (!groups) return false;
  const plain = address.split('%')[0] ?? address;
  if (NON_PUBLIC.check(plain, 'ipv6')) return false;
  const inner = embeddedIpv4(groups);
  return inner === undefined || !NON_PUBLIC.check(inner, 'ipv4');
}

/** A URL's host without the brackets of an IPv6 literal. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/** Resolves a host name to every address it has: the system resolver, or a test's own (to play DNS rebinding). */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

/** The system's resolver (`getaddrinfo`, so /etc/hosts counts), every address of every family. */
export const systemResolver: HostResolver = (hostname) => dnsLookupAsync(hostname, { all: true });

/**
 * Why a host may not be reached, or undefined when it may: an IP literal is checked
 * as it is, a name is resolved and every address it resolves to must be public.
 */
export async function nonPublicReason(host: string, resolve: HostResolver = systemResolver): Promise<string | undefined> {
  if (isIP(host)) return isPublicAddress(host) ? undefined : `${host} is not a public address`;
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    return `${host} does not resolve`;
  }
  if (addresses.length === 0) return `${host} does not resolve`;
  const refused = addresses.find((entry) => !isPublicAddress(entry.address));
  return refused ? `${host} resolves to ${refused.address}, which is not a public address` : undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses non-public answers. The connection then goes to
 * the address that was checked, so a name cannot resolve to a public address for the check
 * and to a private one for the request (DNS rebinding): the check runs on every connection,
 * at delivery time, on the very answer the socket connects to.
 */
export function publicOnlyLookup(resolve: HostResolver = systemResolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname).then(
      (answers) => {
        const addresses = options.family === 4 || options.family === 6 ? answers.filter((entry) => entry.family === options.family) : answers;
        const refused = addresses.find((entry) => !isPublicAddress(entry.address));
        if (refused || addresses.length === 0) {
          const reason = Object.assign(new Error(`${hostname} resolves to a non-public address`), { code: 'ENOTPUBLIC' });
          return callback(reason, []);
        }
        const [first] = addresses;
        if (options.all || !first) return callback(null, addresses);
        return callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };
}
