import { readFile } from 'node:fs/promises';

/**
 * Compares two V8 heap snapshots of one process (as `npm run verify` writes with
 * VERIFY_HEAP_SNAPSHOT_DIR): live objects grouped by constructor (or node type), sorted by the
 * growth of their own size, so whatever accumulates between warm-up and the end of a soak shows first.
 *
 *   node dist/tools/verify/tools/verify/src/heap-diff.js <earlier.heapsnapshot> <later.heapsnapshot> [rows]
 */
interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapGroup {
  group: string;
  count: number;
  selfBytes: number;
}

export async function heapGroups(file: string): Promise<Map<string, HeapGroup>> {
  const heap = JSON.parse(await readFile(file, 'utf8')) as HeapSnapshot;
  const fields = heap.snapshot.meta.node_fields;
  const types = heap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const groups = new Map<string, HeapGroup>();
  for (let offset = 0; offset < heap.nodes.length; offset += stride) {
    const type = types[heap.nodes[offset + typeAt]];
    // Objects and closures by constructor or function name; strings, arrays and code by their type alone.
    const group = type === 'object' || type === 'closure' ? `${type} ${heap.strings[heap.nodes[offset + nameAt]]}` : `(${type})`;
    const entry = groups.get(group) ?? { group, count: 0, selfBytes: 0 };
    entry.count += 1;
    entry.selfBytes += heap.nodes[offset + sizeAt];
    groups.set(group, entry);
  }
  return groups;
}

export function heapGrowth(before: Map<string, HeapGroup>, after: Map<string, HeapGroup>): { group: string; countDelta: number; bytesDelta: number; countAfter: number }[] {
  const names = new Set([...before.keys(), ...after.keys()]);
  return [...names]
    .map((group) => ({
      group,
      countDelta: (after.get(group)?.count ?? 0) - (before.get(group)?.count ?? 0),
      bytesDelta: (after.get(group)?.selfBytes ?? 0) - (before.get(group)?.selfBytes ?? 0),
      countAfter: after.get(group)?.count ?? 0,
    }))
    .sort((a, b) => b.bytesDelta - a.bytesDelta);
}

async function main(): Promise<void> {
  const [earlier, later, rows = '30'] = process.argv.slice(2);
  if (!earlier || !later) throw new Error('usage: heap-diff <earlier.heapsnapshot> <later.heapsnapshot> [rows]');
  const before = await heapGroups(earlier);
  const after = await heapGroups(later);
  const total = (groups: Map<string, HeapGroup>) => [...groups.values()].reduce((sum, group) => sum + group.selfBytes, 0) / 1024 / 1024;
  console.log(`live heap ${total(before).toFixed(1)} MiB -> ${total(after).toFixed(1)} MiB`);
  console.table(
    heapGrowth(before, after)
      .slice(0, Number(rows))
      .map((row) => ({ group: row.group.slice(0, 80), countDelta: row.countDelta, countAfter: row.countAfter, KiBDelta: Math.round(row.bytesDelta / 1024) })),
  );
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
