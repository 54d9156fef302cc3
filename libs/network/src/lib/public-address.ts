import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** Whether an outbound call (webhooks, fetched URLs) may reach this address: public unicast only (SSRF protection). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

export class PrivateTargetError extends Error {
  constructor(readonly address: string) {
    super(`refusing to connect to non-public address ${address}`);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses non-public addresses, so the check applies to the
 * address actually connected to (a name that resolves differently later cannot slip through).
 */
export function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
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
  const host = hostname.replace(/^\[|\]$/g, '');
  if (ipaddr.isValid(host)) return Promise.resolve(isPublicAddress(host));
  return new Promise((resolve) => {
    dnsLookup(host, { all: true }, (error, addresses) => {
      if (error) return resolve(false);
      resolve((addresses as LookupAddress[]).every((entry) => isPublicAddress(entry.address)));
    });
  });
}
