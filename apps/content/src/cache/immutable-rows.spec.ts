import { ImmutableRowCache } from './immutable-rows';

describe('ImmutableRowCache', () => {
  const rows = [
    { id: 'tag-1', tenantId: 'tenant-a', name: 'one' },
    { id: 'tag-2', tenantId: 'tenant-a', name: 'two' },
    { id: 'tag-3', tenantId: 'tenant-b', name: 'three' },
  ];
  const loads: string[][] = [];
  const loaderFor = (tenantId: string) => async (missing: string[]) => {
    loads.push(missing);
    return rows.filter((row) => row.tenantId === tenantId && missing.includes(row.id));
  };

  it("answers in the order asked, loads each row once, and never answers another tenant's row", async () => {
    const cache = new ImmutableRowCache<(typeof rows)[number]>();
    const first = await cache.findByIds('tenant-a', ['tag-2', 'tag-1', 'tag-3', 'tag-2'], loaderFor('tenant-a'));
    expect(first.map((row) => row?.name ?? null)).toEqual(['two', 'one', null, 'two']);
    expect(loads).toEqual([['tag-2', 'tag-1', 'tag-3']]);

    const again = await cache.findByIds('tenant-a', ['tag-1', 'tag-2'], loaderFor('tenant-a'));
    expect(again.map((row) => row?.name)).toEqual(['one', 'two']);
    expect(loads).toHaveLength(1);

    // Cached for tenant A, still loaded (and refused) for tenant B.
    expect(await cache.findByIds('tenant-b', ['tag-1', 'tag-3'], loaderFor('tenant-b'))).toEqual([null, rows[2]]);
    expect(loads[1]).toEqual(['tag-1', 'tag-3']);
    expect(await cache.findByIds('tenant-b', [], loaderFor('tenant-b'))).toEqual([]);
    expect(loads).toHaveLength(2);
  });
});
