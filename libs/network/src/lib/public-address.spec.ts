import { assertPublicLiteralHost, isPublicAddress, PrivateTargetError, publicOnlyLookup, resolvesToPublic } from './public-address';

describe('public address guard (SSRF)', () => {
  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.10', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['255.255.255.255', false],
    ['224.0.0.1', false],
    ['::', false],
    ['::1', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['fe80::1', false],
    ['fec0::1', false],
    ['ff02::1', false],
    ['2001:db8::1', false],
    // inet_aton's other IPv4 spellings: decimal, octal, hex, short.
    ['2130706433', false],
    ['0177.0.0.1', false],
    ['0x7f.1', false],
    ['0x7f000001', false],
    ['127.1', false],
    ['012.1.2.3', false],
    // IPv4-mapped IPv6, dotted or hex.
    ['::ffff:127.0.0.1', false],
    ['::ffff:7f00:1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:a9fe:a9fe', false],
    ['0:0:0:0:0:ffff:127.0.0.1', false],
    // IPv4-compatible IPv6 (deprecated), dotted or hex.
    ['::127.0.0.1', false],
    ['::7f00:1', false],
    ['::10.0.0.1', false],
    ['::a00:1', false],
    ['::0.0.0.1', false],
    // IPv4-translated (SIIT).
    ['::ffff:0:7f00:1', false],
    // NAT64: judged by the IPv4 address inside; the local-use prefix is never public.
    ['64:ff9b::7f00:1', false],
    ['64:ff9b::127.0.0.1', false],
    ['64:ff9b::a00:1', false],
    ['64:ff9b:1::5db8:d822', false],
    // 6to4 and Teredo tunnel to IPv4 relays and hosts: refused.
    ['2002:7f00:0001::', false],
    ['2002:5db8:d822::1', false],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', false],
    // Zone ids scope an address to an interface: refused.
    ['fe80::1%eth0', false],
    ['2606:2800:220:1:248:1893:25c8:1946%1', false],
    ['not an address', false],
    ['', false],
    ['93.184.216.34', true],
    ['2606:2800:220:1:248:1893:25c8:1946', true],
    ['::ffff:93.184.216.34', true],
    ['::ffff:5db8:d822', true],
    ['64:ff9b::93.184.216.34', true],
    ['::93.184.216.34', true],
    ['::5db8:d822', true],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  // URLs as registered: the WHATWG parser turns decimal, octal, hex and short IPv4 into dotted quads
  // and keeps IPv6 in brackets; each host below must be refused before any connection.
  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0177.0.0.1/',
    'http://0x7f.1/',
    'http://127.1/',
    'http://127.0.0.1./',
    'http://0/',
    'http://[::]/',
    'http://[::1]/',
    'http://[::127.0.0.1]/',
    'http://[::7f00:1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://[2002:7f00:0001::]/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://api.localhost/',
  ])('refuses %s at registration and before connecting', async (raw) => {
    const url = new URL(raw);
    expect(await resolvesToPublic(url.hostname)).toBe(false);
    expect(() => assertPublicLiteralHost(url)).toThrow(PrivateTargetError);
  });

  it('lets public literals and names through the literal check (names are checked on connect)', () => {
    for (const raw of ['https://93.184.216.34/x', 'https://[2606:2800:220:1:248:1893:25c8:1946]/x', 'https://[::ffff:5db8:d822]/x', 'https://example.com./x']) {
      expect(() => assertPublicLiteralHost(new URL(raw))).not.toThrow();
    }
  });

  it('cannot be handed a zone id in a URL: the WHATWG parser refuses it', () => {
    expect(() => new URL('http://[fe80::1%25eth0]/')).toThrow('Invalid URL');
  });

  it('refuses, on connect, localhost names and whatever the resolver answers that is not public', async () => {
    // The resolver answers literals (and inet_aton's spellings of them) without asking DNS.
    for (const name of ['localhost', 'localhost.', 'api.localhost', '10.1.2.3', '::ffff:7f00:1', '2130706433']) {
      const error = await new Promise<Error | null>((resolve) => publicOnlyLookup(name, {}, (failure) => resolve(failure)));
      expect(error).toBeInstanceOf(PrivateTargetError);
    }
    expect(await resolvesToPublic('[::1]')).toBe(false);
    expect(await resolvesToPublic('203.0.113.7')).toBe(false);
  });
});
