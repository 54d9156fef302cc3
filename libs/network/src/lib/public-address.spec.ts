import { isPublicAddress, publicOnlyLookup, resolvesToPublic } from './public-address';

describe('public address guard (SSRF)', () => {
  it.each([
    ['127.0.0.1', false],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['192.168.1.10', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['fc00::1', false],
    ['fe80::1', false],
    ['::ffff:127.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['93.184.216.34', true],
    ['2606:2800:220:1:248:1893:25c8:1946', true],
    ['::ffff:93.184.216.34', true],
    ['not an address', false],
  ])('%s is public: %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it('refuses, on connect, a name that resolves to a private address', async () => {
    const error = await new Promise<Error | null>((resolve) => publicOnlyLookup('localhost', {}, (failure) => resolve(failure)));
    expect(error?.message).toMatch(/refusing to connect to non-public address/);
    expect(await resolvesToPublic('localhost')).toBe(false);
    expect(await resolvesToPublic('[::1]')).toBe(false);
    expect(await resolvesToPublic('203.0.113.7')).toBe(false);
  });
});
