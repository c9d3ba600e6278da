// Bulk calls: bulk set writes every item, bulk get answers every key in order (a missing key
// with neither value nor error), bulk delete removes exactly the keys it names.
import { bulkGet, deleteRequest, describeBytes, expectMissing, expectValue, fail, key, sameBytes, setRequest, utf8, type Check } from './harness.ts';

const ITEMS = ['a', 'b', 'c'].map((name, i) => [key(`bulk-${name}`), `value ${i}`] as const);

export const bulkChecks: Check[] = [
  {
    area: 'bulk',
    name: 'bulk set writes every item',
    async run({ store }) {
      await store.bulkSet(ITEMS.map(([k, v]) => setRequest(k, v)));
      for (const [k, v] of ITEMS) await expectValue(store, k, v, 'after bulk set');
    },
  },
  {
    area: 'bulk',
    name: 'bulk get answers every key in order; a missing one with no value and no error',
    async run({ store }) {
      for (const [k, v] of ITEMS) await store.set(setRequest(k, v));
      const keys = [ITEMS[2]![0], key('bulk-missing'), ITEMS[0]![0], ITEMS[1]![0]];
      const items = await bulkGet(store, keys);
      if (items.length !== keys.length) fail(`bulk get of ${keys.length} keys answered ${items.length} items`);
      for (const [i, item] of items.entries()) {
        if (item.key !== keys[i]) fail(`bulk get item ${i} is for key ${JSON.stringify(item.key)}, expected ${JSON.stringify(keys[i])}`);
        if (item.error !== undefined) fail(`bulk get item ${i} (${JSON.stringify(item.key)}) has error ${JSON.stringify(item.error)}`);
      }
      if (items[1]!.response !== undefined) fail(`bulk get found ${describeBytes(items[1]!.response.value)} under a key never set`);
      for (const i of [0, 2, 3]) {
        const want = utf8(ITEMS.find(([k]) => k === keys[i])![1]);
        const got = items[i]!.response?.value;
        if (got === undefined || !sameBytes(got, want)) fail(`bulk get item ${i} answered ${describeBytes(got)}, expected ${describeBytes(want)}`);
      }
    },
  },
  {
    area: 'bulk',
    name: 'bulk get of no keys answers an empty list',
    async run({ store }) {
      const items = await bulkGet(store, []);
      if (items.length !== 0) fail(`bulk get of no keys answered ${items.length} items`);
    },
  },
  {
    area: 'bulk',
    name: 'bulk delete removes the keys it names, and only those',
    async run({ store }) {
      for (const [k, v] of ITEMS) await store.set(setRequest(k, v));
      await store.bulkDelete([deleteRequest(ITEMS[0]![0]), deleteRequest(ITEMS[2]![0]), deleteRequest(key('bulk-missing'))]);
      await expectMissing(store, ITEMS[0]![0], 'after bulk delete');
      await expectMissing(store, ITEMS[2]![0], 'after bulk delete');
      await expectValue(store, ITEMS[1]![0], ITEMS[1]![1], 'after a bulk delete of other keys');
    },
  },
];
