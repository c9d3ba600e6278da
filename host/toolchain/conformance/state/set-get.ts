// Set and get: every kind of value an app stores through Dapr's state API round-trips byte
// for byte, under any key, and a missing key reads as not found.
import { expectMissing, expectValue, fail, get, key, setRequest, utf8, type Check } from './harness.ts';

/** Values as the Dapr SDKs serialise them: JSON for numbers, booleans, strings and objects; raw for bytes. */
const VALUES: [name: string, value: Uint8Array][] = [
  ['an int', utf8('1234567890')],
  ['a negative float', utf8('-273.15')],
  ['a bool (true)', utf8('true')],
  ['a bool (false)', utf8('false')],
  ['bytes (all 256 byte values)', Uint8Array.from({ length: 256 }, (_, i) => i)],
  ['a string', utf8('"Grüße, мир ✓ 😀"')],
  ['an empty string', new Uint8Array(0)],
  ['JSON', utf8(JSON.stringify({ order: { id: 42, items: [{ sku: 'a-1', qty: 2 }], paid: false, note: null } }))],
  ['a 256 KiB value', Uint8Array.from({ length: 256 * 1024 }, (_, i) => (i * 31 + (i >> 8)) & 0xff)],
];

const roundTrips: Check[] = VALUES.map(([name, value]) => ({
  area: 'set-get',
  name: `${name} round-trips`,
  async run({ store }) {
    const k = key(name.replaceAll(' ', '-'));
    await store.set(setRequest(k, value));
    await expectValue(store, k, value, 'after set');
  },
}));

export const setGetChecks: Check[] = [
  ...roundTrips,
  {
    area: 'set-get',
    name: 'unicode, prefixed and 1 KiB keys are distinct keys',
    async run({ store }) {
      const keys = [key('ключ ✓ 😀'), 'other-app||ключ ✓ 😀', key('k'.repeat(1024)), key('K'), key('k')];
      for (const [i, k] of keys.entries()) await store.set(setRequest(k, `value ${i}`));
      for (const [i, k] of keys.entries()) await expectValue(store, k, `value ${i}`, 'after setting five similar keys');
    },
  },
  {
    area: 'set-get',
    name: 'a second set replaces the value',
    async run({ store }) {
      const k = key('replaced');
      await store.set(setRequest(k, 'first'));
      await store.set(setRequest(k, 'second'));
      await expectValue(store, k, 'second', 'after two sets');
    },
  },
  {
    area: 'set-get',
    name: 'a key never set reads as not found, without an error',
    async run({ store }) {
      await expectMissing(store, key('never-set'), 'on an empty store');
      await store.set(setRequest(key('other'), 'v'));
      const found = await get(store, key('never-set'));
      if (found !== undefined) fail('a key never set was found after another key was set');
    },
  },
];
