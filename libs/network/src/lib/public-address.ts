import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

export class PrivateTargetError extends Error {
  constructor(readonly address: string) {
    super(`refusing to connect to non-public address ${address}`);
  }
}

/**
 * IPv6 prefixes whose last 32 bits are the IPv4 address reached: IPv4-compatible (RFC 4291,
 * deprecated; ipaddr.js reads its dotted form as IPv4-mapped anyway) and NAT64's well-known prefix (RFC 6052).
 */
const EMBEDDING_IPV4 = [ipaddr.IPv6.parseCIDR('::/96'), ipaddr.IPv6.parseCIDR('64:ff9b::/96')];

/**
 * Whether an outbound call (webhooks, fetched URLs) may reach this address: public unicast only
 * (SSRF protection). Accepts every form inet_aton and URL parsers accept (decimal, octal, hex,
 * short IPv4). IPv6 forms that carry an IPv4 address are judged by that address (IPv4-mapped,
 * IPv4-compatible, NAT64's well-known prefix); IPv4-translated, local-use NAT64, 6to4 and Teredo
 * are refused (ipaddr.js ranges other than unicast); a zone id is refused whatever it scopes.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv4') return parsed.range() === 'unicast';
  const ipv6 = parsed as ipaddr.IPv6;
  if (ipv6.zoneId !== undefined) return false;
  if (ipv6.isIPv4MappedAddress() || EMBEDDING_IPV4.some((prefix) => ipv6.match(prefix))) return embeddedIPv4(ipv6).range() === 'unicast';
  return ipv6.range() === 'unicast';
}

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 {
  return new ipaddr.IPv4(address.toByteArray().slice(12));
}

/** Names that mean this host whatever DNS says (RFC 6761), with or without the root's trailing dot. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** A URL hostname's address when it is an IP literal (WHATWG URLs already write IPv4 as dotted quads and IPv6 in brackets); null for a name. */
function literalAddress(hostname: string): string | null {
  const host = hostname.replace(/^\[|\]$/g, '');
  return ipaddr.isValid(host) ? host : null;
}

/**
 * Refuses, before connecting, a URL whose host is an IP literal that is not public: Node connects
 * to literals without a lookup, so publicOnlyLookup never sees them.
 */
export function assertPublicLiteralHost(url: URL): void {
  const address = literalAddress(url.hostname);
  if (address !== null && !isPublicAddress(address)) throw new PrivateTargetError(address);
  if (isLocalhostName(url.hostname)) throw new PrivateTargetError(url.hostname);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses non-public addresses, so the check applies to the
 * address actually connected to (a name that resolves differently later cannot slip through).
 */
export function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
  if (isLocalhostName(hostname)) return callback(new PrivateTargetError(hostname) as NodeJS.ErrnoException, []);
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const list = addresses as LookupAddress[];
    const refused = list.find((entry) => !isPublicAddress(entry.address));
    if (refused) return callback(new PrivateTargetError(refused.address) as NodeJS.ErrnoException, []);
    if ((options as { all?: boolean }).all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}

/** Resolves a URL's host now, for a clear answer at registration; delivery checks again on connect. */
export function resolvesToPublic(hostname: string): Promise<boolean> {
  if (isLocalhostName(hostname)) return Promise.resolve(false);
  const address = literalAddress(hostname);
  if (address !== null) return Promise.resolve(isPublicAddress(address));
  return new Promise((resolve) => {
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      if (error) return resolve(false);
      resolve((addresses as LookupAddress[]).every((entry) => isPublicAddress(entry.address)));
    });
  });
}
