import { gunzipSync } from 'node:zlib';
import { exportChunks } from './privacy-participant';

describe('export chunks', () => {
  it('split a part into bounded chunks that join back into the same JSON', () => {
    const data = { documents: Array.from({ length: 2_000 }, (_, index) => ({ id: index, body: `${index}-${Math.random()}` })) };
    const chunks = exportChunks(data, 4_096);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.every((chunk) => chunk.length <= 4_096)).toBe(true);
    expect(JSON.parse(gunzipSync(Buffer.from(chunks.join(''), 'base64')).toString('utf8'))).toEqual(data);
  });

  it('send one chunk for a small part', () => {
    expect(exportChunks({})).toHaveLength(1);
  });
});
