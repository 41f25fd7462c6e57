import { BlockList, isIP } from 'node:net';

const IPV4_RANGES: readonly (readonly [string, number])[] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 3], // multicast, reserved, broadcast
];

const IPV6_RANGES: readonly (readonly [string, number])[] = [
  ['::', 96], // unspecified, loopback (::1) and the deprecated IPv4-compatible ::a.b.c.d
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still routable on some hosts)
  ['ff00::', 8], // multicast
];

/**
 * The addresses an image URL for Ollama may not reach (unless `IMAGE_URL_ALLOW_PRIVATE`): loopback,
 * private, link-local, CGNAT, unspecified, multicast, documentation and reserved ranges, in IPv4 and
 * IPv6. IPv6 forms that carry an IPv4 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`, NAT64
 * `64:ff9b::7f00:1`) are judged by that IPv4 address.
 */
export class RefusedAddresses {
  private readonly list = new BlockList();

  constructor() {
    for (const [net, prefix] of IPV4_RANGES) this.list.addSubnet(net, prefix, 'ipv4');
    for (const [net, prefix] of IPV6_RANGES) this.list.addSubnet(net, prefix, 'ipv6');
  }

  /** True for a refused address, and for anything that is not an IP address at all. */
  has(address: string): boolean {
    const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
    const family = isIP(bare);
    if (family === 4) return this.list.check(bare, 'ipv4');
    if (family !== 6) return true;
    const embedded = embeddedIpv4(bare);
    if (embedded !== undefined) return this.list.check(embedded, 'ipv4');
    return this.list.check(bare, 'ipv6');
  }
}

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:0:0/96`) or NAT64 (`64:ff9b::/96`) IPv6 address,
 * in dotted or hex notation; undefined for any other IPv6 address.
 */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const prefix = lower.startsWith('::ffff:') ? '::ffff:' : lower.startsWith('64:ff9b::') ? '64:ff9b::' : '';
  if (!prefix) return undefined;
  const rest = lower.slice(prefix.length);
  if (isIP(rest) === 4) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(rest);
  if (!hex) return undefined;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}
