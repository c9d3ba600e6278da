// bindings.redis (components-wasm/bindings-redis, Rust on sdk/rust and the shared Redis
// client) through the real host against a real redis-server on a free loopback port: the
// tcp capability with its grant, JSPI, the output world. The conformance kit's binding
// suite; then Dapr's operations on one key (create, get, delete, increment, with TTLs
// checked in Redis itself), the requests it refuses, Redis going down and coming back, the
// configuration checked at init; then the crates' own unit tests, jco's reading of its
// signatures, a byte-identical rebuild, and the SDK README's binding example (both
// directions), built and driven.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { BindingEvent, InvokeResponse } from '../../abi/ts/binding.ts';
import { ABI_VERSION } from '../../abi/ts/manifest.ts';
import type { Metadata, WitResult } from '../../abi/ts/types.ts';
import { isTesseraError } from '../../host/errors.ts';
import { silentLogger } from '../../host/observability/logger.ts';
import { CompiledComponent } from '../../host/sandbox/compiled-component.ts';
import { adaptBinding } from '../../host/sandbox/kinds/binding-adapter.ts';
import { unwrapResult } from '../../host/sandbox/kinds/wit-result.ts';
import { LiveComponent } from '../../host/sandbox/live-component.ts';
import { conformanceTests } from '../support/conformance.ts';
import { RedisServer } from '../support/redis-server.ts';
import { acceptedAsWorld, buildReadmeExample, cargoTestPasses, componentErrorOf as errorOf, rebuildIsCommitted, startOnRedis, type OnRedisOptions } from '../support/rust-component.ts';
import { hasTool, needs } from '../support/tools.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COMPONENT = join('components-wasm', 'bindings-redis');
const SHARED = join('components-wasm', 'shared', 'redis-client');
const WASM = join(ROOT, COMPONENT, 'bindings-redis.wasm');
const OUTPUT = `tessera:components/output@${ABI_VERSION}#`;

const wasmBytes = readFile(WASM).then((b) => new Uint8Array(b));
const compiled = wasmBytes.then((b) => CompiledComponent.compile(b, { source: 'bindings-redis.wasm' }));
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** One instance of the binding, with typed calls. */
class RedisBinding {
  readonly live: LiveComponent;

  constructor(live: LiveComponent) {
    this.live = live;
  }

  async #call<T>(fn: string, ...args: unknown[]): Promise<T> {
    return unwrapResult('redis', fn, (await this.live.call(fn, args)) as WitResult<T>);
  }

  invoke(operation: string, metadata: Metadata, data: Uint8Array = new Uint8Array()): Promise<InvokeResponse> {
    return this.#call('output#invoke', { operation, data, metadata });
  }

  async operations(): Promise<string[]> {
    return (await this.live.call('output#operations', [])) as string[];
  }

  ping(): Promise<void> {
    return this.#call('ping');
  }
}

let redis: RedisServer;
const started: LiveComponent[] = [];
let keys = 0;
/** A key no other test uses. */
const newKey = (): string => `key-${process.pid}-${++keys}`;

async function start(options: Partial<OnRedisOptions> = {}): Promise<RedisBinding> {
  const live = await startOnRedis(await compiled, 'redis-binding', { server: redis, ...options });
  started.push(live);
  return new RedisBinding(live);
}

/** `TTL <key>` in seconds: -1 without one, -2 for a missing key. */
async function ttlOf(key: string): Promise<number> {
  return Number((await redis.cli('TTL', key)).trim());
}

before(async () => {
  if (hasTool('redis')) redis = await RedisServer.start();
});

after(async () => {
  await Promise.all(started.map((live) => live.close()));
  await redis?.stop();
});

conformanceTests(
  'bindings-redis.wasm, against a redis-server of its own',
  async () => {
    const server = await RedisServer.start();
    return {
      bytes: await wasmBytes,
      source: 'bindings-redis.wasm',
      config: new Map([['redisHost', server.address]]),
      grants: { tcp: [server.address] },
      badConfig: new Map([['enableTLS', 'true']]),
      close: () => server.stop(),
    };
  },
  needs('redis'),
);

describe('bindings.redis through the host, against redis-server', needs('redis'), () => {
  test('carries the bindings.redis manifest, imports log, clock, tcp and redis, exports the output world and lists Dapr\'s four operations', async () => {
    const component = await compiled;
    assert.deepEqual(component.manifest, {
      kind: 'binding',
      type: 'bindings.redis',
      version: 'v1',
      abi: ABI_VERSION,
      capabilities: ['log', 'clock', 'tcp', 'redis'],
      description: 'Redis keys as an output binding, built in Rust: create (with a TTL), get, delete and increment one key.',
    });
    assert.deepEqual([...component.importedInterfaces].sort(), ['clock', 'log', 'redis', 'tcp']);
    assert.deepEqual([...component.optionalExports], ['output']);
    assert.equal(component.needsJspi, true, 'tcp suspends');
    const names = WebAssembly.Module.exports(component.module).map((e) => e.name);
    for (const fn of ['operations', 'invoke']) assert.ok(names.includes(OUTPUT + fn), fn);
    const binding = await start();
    assert.deepEqual(await binding.operations(), ['create', 'get', 'delete', 'increment']);
    await binding.ping();
  });

  test('create stores the bytes as given, get answers them, delete removes the key; a missing key gets no data', async () => {
    const binding = await start();
    const key = newKey();
    // What daprd passes for `"data": {"a": "é"}`: the JSON text.
    const json = encode('{"a":"é"}');
    assert.deepEqual(await binding.invoke('create', [['key', key]], json), { data: new Uint8Array(), metadata: [], contentType: undefined });
    assert.equal(await redis.cli('GET', key), '{"a":"é"}\n');
    assert.equal(await ttlOf(key), -1, 'no ttlInSeconds: no expiry');
    assert.deepEqual((await binding.invoke('get', [['key', key]])).data, json);

    const binary = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
    await binding.invoke('create', [['key', key]], binary);
    assert.deepEqual((await binding.invoke('get', [['key', key]])).data, binary, 'overwritten, binary-safe');

    await binding.invoke('delete', [['key', key]]);
    assert.equal(await redis.cli('EXISTS', key), '0\n');
    assert.deepEqual(await binding.invoke('get', [['key', key]]), { data: new Uint8Array(), metadata: [], contentType: undefined });
    await binding.invoke('delete', [['key', key]]);
  });

  test('create with ttlInSeconds sets the expiry with the value (SET EX); get with delete "true" removes what it read', async () => {
    const binding = await start();
    const key = newKey();
    await binding.invoke('create', [['key', key], ['ttlInSeconds', '100']], encode('"v"'));
    const ttl = await ttlOf(key);
    assert.ok(ttl > 0 && ttl <= 100, `TTL ${ttl}`);
    await binding.invoke('create', [['key', key]], encode('"w"'));
    assert.equal(await ttlOf(key), -1, 'a create without ttlInSeconds clears the expiry, as SET does');
    assert.equal(decode((await binding.invoke('get', [['key', key], ['delete', 'true']])).data), '"w"');
    assert.equal(await redis.cli('EXISTS', key), '0\n');
  });

  test('increment counts from zero (INCR); with ttlInSeconds it sets the expiry after counting; a value that is no integer is invalid-argument', async () => {
    const binding = await start();
    const key = newKey();
    assert.deepEqual(await binding.invoke('increment', [['key', key]]), { data: new Uint8Array(), metadata: [], contentType: undefined });
    await binding.invoke('increment', [['key', key]]);
    assert.equal(decode((await binding.invoke('get', [['key', key]])).data), '2');
    assert.equal(await ttlOf(key), -1);
    await binding.invoke('increment', [['key', key], ['ttlInSeconds', '50']]);
    const ttl = await ttlOf(key);
    assert.ok(ttl > 0 && ttl <= 50, `TTL ${ttl}`);
    assert.equal(await redis.cli('GET', key), '3\n');

    const text = newKey();
    await binding.invoke('create', [['key', text]], encode('"not a number"'));
    const error = await errorOf(binding.invoke('increment', [['key', text], ['ttlInSeconds', '50']]));
    assert.equal(error.tag, 'invalid-argument');
    assert.match(error.val, new RegExp(`redis refused INCR on key "${text}": ERR value is not an integer`));
    assert.equal(await ttlOf(text), -1, 'no expiry set on a key that did not count');
  });

  test('a request without metadata "key", with a bad ttlInSeconds, or of an unknown operation is invalid-argument naming it; nothing is sent', async () => {
    const binding = await start();
    for (const operation of ['create', 'get', 'delete', 'increment']) {
      for (const metadata of [[], [['key', '']]] as Metadata[]) {
        const error = await errorOf(binding.invoke(operation, metadata, encode('1')));
        assert.equal(error.tag, 'invalid-argument');
        assert.match(error.val, new RegExp(`^operation "${operation}" needs the request metadata "key": the Redis key it acts on`));
      }
    }
    const key = newKey();
    assert.deepEqual(await errorOf(binding.invoke('create', [['key', key], ['ttlInSeconds', '0']], encode('1'))), {
      tag: 'invalid-argument',
      val: 'ttlInSeconds "0" must be above zero',
    });
    assert.deepEqual(await errorOf(binding.invoke('increment', [['key', key], ['ttlInSeconds', 'soon']])), {
      tag: 'invalid-argument',
      val: 'ttlInSeconds "soon" is not a whole number of seconds',
    });
    assert.equal(await redis.cli('EXISTS', key), '0\n');
    assert.deepEqual(await errorOf(binding.invoke('list', [['key', key]])), {
      tag: 'invalid-argument',
      val: 'operation "list" is not supported by this binding; supported operations: create, get, delete, increment',
    });
    const hash = newKey();
    await redis.cli('HSET', hash, 'f', 'v');
    const wrongType = await errorOf(binding.invoke('get', [['key', hash]]));
    assert.equal(wrongType.tag, 'invalid-argument');
    assert.match(wrongType.val, /WRONGTYPE .*\(the key holds something other than a string\)/);
  });

  test('through adaptBinding, as the bindings building block sees it: an unknown operation is refused before any call', async () => {
    const binding = await start();
    const component = await compiled;
    const adapted = adaptBinding({
      name: 'redis-binding',
      features: binding.live.features,
      call: (fn, args) => binding.live.call(fn, args),
      generation: 1,
      blocking: component.needsJspi,
      exports: component.optionalExports,
      dedicatedInstance: () => assert.fail('an output binding needs no instance of its own'),
    });
    assert.deepEqual([adapted.output, adapted.input], [true, false]);
    const key = newKey();
    await adapted.invoke({ operation: 'create', data: encode('[1,2]'), metadata: [['key', key]] });
    assert.equal(decode((await adapted.invoke({ operation: 'get', data: new Uint8Array(), metadata: [['key', key]] })).data), '[1,2]');
    await assert.rejects(adapted.invoke({ operation: 'list', data: new Uint8Array(), metadata: [] }), (err: Error) => {
      assert.ok(isTesseraError(err) && err.code === 'ERR_INVOKE_OUTPUT_BINDING', String(err));
      assert.match(err.message, /does not support operation "list": it supports create, get, delete, increment/);
      return true;
    });
    await adapted.ping();
  });

  test('Redis down: invocations and ping fail with unavailable, the instance keeps serving, and it reconnects once Redis is back', async () => {
    const server = await RedisServer.start();
    try {
      const binding = await start({ server });
      const key = newKey();
      await binding.invoke('create', [['key', key]], encode('1'));
      await server.stop();
      for (const call of [binding.invoke('get', [['key', key]]), binding.invoke('create', [['key', key]], encode('2')), binding.invoke('increment', [['key', key]]), binding.ping()]) {
        const error = await errorOf(call);
        assert.equal(error.tag, 'unavailable', error.val);
        assert.match(error.val, new RegExp(`redis at ${server.address.replaceAll('.', '\\.')} (is unreachable|broke|did not answer)|connection to redis at`));
      }
      // Still a bad request is told apart from the outage, without a trap.
      assert.equal((await errorOf(binding.invoke('get', []))).tag, 'invalid-argument');
      await server.restart();
      await binding.ping();
      await binding.invoke('create', [['key', key]], encode('"back"'));
      assert.equal(decode((await binding.invoke('get', [['key', key]])).data), '"back"');
    } finally {
      await server.stop();
    }
  });

  test('init checks the configuration: enableTLS true is refused (no TLS over tcp), redisHost, the grant, AUTH with redisUsername/redisPassword, SELECT with redisDB', async () => {
    await assert.rejects(start({ config: { enableTLS: 'true' } }), /init refused the configuration: invalid-argument: enableTLS is true, but Tessera's tcp capability has no TLS/);
    await assert.rejects(start({ config: { enableTLS: 'maybe' } }), /enableTLS "maybe" is not true or false/);
    await assert.rejects(start({ config: { redisHost: '' } }), /invalid-argument: redisHost is required/);
    await assert.rejects(start({ config: { redisHost: 'nope:port' } }), /redisHost "nope:port" is not host:port/);
    await assert.rejects(start({ grants: [] }), /cannot connect to redisHost 127\.0\.0\.1:\d+: redis at 127\.0\.0\.1:\d+ is not allowed for component "redis-binding": it has no tcp grant/);
    await start({ config: { enableTLS: 'false' } });

    const secured = await RedisServer.start({ args: ['--requirepass', 's3cret'] });
    try {
      await assert.rejects(start({ server: secured }), /redis refused PING: NOAUTH .*set redisPassword/);
      await assert.rejects(start({ server: secured, config: { redisUsername: 'default', redisPassword: 'wrong' } }), /refused AUTH \(redisUsername, redisPassword\): WRONGPASS/);
      const binding = await start({ server: secured, config: { redisUsername: 'default', redisPassword: 's3cret', redisDB: '3' } });
      await binding.invoke('create', [['key', 'in-db-3']], encode('"x"'));
      assert.equal(await secured.cli('-n', '3', 'GET', 'in-db-3'), '"x"\n');
      assert.equal(await secured.cli('GET', 'in-db-3'), '\n', 'not in database 0');
    } finally {
      await secured.stop();
    }
  });
});

describe('bindings.redis, the module', () => {
  test('the unit tests of the binding and of the shared Redis client (RESP, settings) pass (cargo test, native)', needs('rust'), () =>
    cargoTestPasses([join(ROOT, COMPONENT), join(ROOT, SHARED)]));

  test('jco embed + jco new accept it as the output-binding world', async () => acceptedAsWorld(await wasmBytes, 'output-binding'));

  test('a rebuild from a copy of the sources in another folder is byte-identical to the committed .wasm', needs('rust'), () => rebuildIsCommitted([COMPONENT, SHARED]));
});

describe("the Rust SDK's binding API", () => {
  test("the README's binding example (both directions, one type) builds, loads, and carries invoked messages to its reader", needs('rust'), async () => {
    const component = await CompiledComponent.compile(await buildReadmeExample('export_input_output_binding!', 'bindings-loopback'));
    assert.deepEqual(component.manifest, {
      kind: 'binding',
      type: 'bindings.loopback',
      version: 'v1',
      abi: ABI_VERSION,
      capabilities: [],
      description: 'What the app sends comes back to it as an input event.',
    });
    assert.deepEqual([...component.optionalExports].sort(), ['input', 'output']);
    const live = await LiveComponent.start(component, { name: 'loopback', config: new Map([['prefix', 'lb-']]), logger: silentLogger });
    try {
      const call = async <T>(fn: string, ...args: unknown[]): Promise<T> => unwrapResult('loopback', fn, (await live.call(fn, args)) as WitResult<T>);
      assert.deepEqual(await live.call('output#operations', []), ['create']);
      assert.deepEqual(await call('output#invoke', { operation: 'create', data: encode('{"n":1}'), metadata: [['k', 'v']] }), {
        data: encode('lb-1'),
        metadata: [],
        contentType: 'text/plain',
      });
      await call('output#invoke', { operation: 'create', data: encode('{"n":2}'), metadata: [] });
      const [first, second, ...rest] = await call<BindingEvent[]>('input#read', 10, 0);
      assert.deepEqual([first, second?.id, rest.length], [{ id: 'lb-1', data: encode('{"n":1}'), metadata: [['k', 'v']], contentType: 'application/json' }, 'lb-2', 0]);
      await call('input#ack', 'lb-1', 'failure');
      await call('input#ack', 'lb-2', 'success');
      assert.deepEqual((await call<BindingEvent[]>('input#read', 10, 0)).map((e) => e.id), ['lb-1'], 'a failed event comes back');
      assert.deepEqual(await errorOf(call('output#invoke', { operation: 'get', data: new Uint8Array(), metadata: [] })), {
        tag: 'invalid-argument',
        val: 'operation "get" is not supported by this binding; supported operations: create',
      });
      await call('ping');
    } finally {
      await live.close();
    }
  });

  test('export_input_binding! exports an input binding alone (world input-binding)', needs('rust'), async () => {
    const inputOnly = (source: string): string =>
      source.replace(/impl OutputBinding for Loopback \{[\s\S]*?\n\}\n/, '').replace(', InvokeResponse', '').replace(', OutputBinding', '').replace('export_input_output_binding!', 'export_input_binding!');
    const bytes = await buildReadmeExample('export_input_output_binding!', 'bindings-inbound', inputOnly);
    const component = await CompiledComponent.compile(bytes);
    assert.deepEqual([component.manifest.kind, [...component.optionalExports]], ['binding', ['input']]);
    await acceptedAsWorld(bytes, 'input-binding');
    const live = await LiveComponent.start(component, { name: 'inbound', config: new Map(), logger: silentLogger });
    try {
      assert.deepEqual(await live.call('input#read', [10, 0]), { tag: 'ok', val: [] });
    } finally {
      await live.close();
    }
  });
});
