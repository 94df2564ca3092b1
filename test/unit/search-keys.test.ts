/** Search attribute values: normalised, hashed with a key, and never over Temporal's 2,048-byte list limit. */
import { createSearchKeyActivities, searchValue } from '../../src/activities/search-keys';

test('values are lower-cased, and with a key become stable keyed hashes', () => {
  const key = Buffer.alloc(32, 7);
  expect(searchValue(' Alice@Example.ORG ', undefined)).toBe('alice@example.org');
  expect(searchValue('alice@example.org', key)).toMatch(/^h1:[0-9a-f]{24}$/);
  expect(searchValue('ALICE@example.org', key)).toBe(searchValue('alice@example.org', key));
  expect(searchValue('alice@example.org', Buffer.alloc(32, 8))).not.toBe(searchValue('alice@example.org', key));
});

test.each([undefined, Buffer.alloc(32, 1)])('a list stays under the 2,048-byte limit (key %#)', async (key) => {
  const { searchKeys } = createSearchKeyActivities({ searchKey: key });
  const many = Array.from({ length: 5000 }, (_, i) => `2001:db8:${i.toString(16)}::${(i * 7).toString(16)}`);
  const long = Array.from({ length: 300 }, (_, i) => `<${'x'.repeat(200)}.${i}@example.org>`);
  const out = await searchKeys({ addresses: many, messageIds: long, senders: ['a@b.c', 'A@B.C'] });
  for (const list of [out.addresses, out.messageIds, out.senders]) {
    expect(Buffer.byteLength(JSON.stringify(list))).toBeLessThanOrEqual(2048);
  }
  expect(out.addresses.length).toBeGreaterThan(20);
  expect(out.messageIds.length).toBeGreaterThan(0);
  expect(out.senders).toHaveLength(1);
});
