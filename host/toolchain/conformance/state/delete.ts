// Delete: removes the key and only that key; deleting a missing key is no error.
import { deleteRequest, expectAccepted, expectMissing, expectValue, key, setRequest, type Check } from './harness.ts';

export const deleteChecks: Check[] = [
  {
    area: 'delete',
    name: 'delete removes the key, and only that key',
    async run({ store }) {
      await store.set(setRequest(key('gone'), 'v'));
      await store.set(setRequest(key('kept'), 'w'));
      await store.delete(deleteRequest(key('gone')));
      await expectMissing(store, key('gone'), 'after delete');
      await expectValue(store, key('kept'), 'w', 'after deleting another key');
    },
  },
  {
    area: 'delete',
    name: 'deleting a missing key succeeds',
    async run({ store }) {
      await expectAccepted(store.delete(deleteRequest(key('never-set'))), 'delete of a key never set');
      await store.set(setRequest(key('once'), 'v'));
      await store.delete(deleteRequest(key('once')));
      await expectAccepted(store.delete(deleteRequest(key('once'))), 'a second delete of the same key');
    },
  },
  {
    area: 'delete',
    name: 'a deleted key can be set again',
    async run({ store }) {
      await store.set(setRequest(key('again'), 'first'));
      await store.delete(deleteRequest(key('again')));
      await store.set(setRequest(key('again'), 'second'));
      await expectValue(store, key('again'), 'second', 'after set, delete, set');
    },
  },
];
