// The sleep capability as a component sees it: a sleep never ends before the time asked for
// by the component's own clock.monotonic-ns, however early Node's timers fire.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { silentLogger } from '../../../../host/observability/logger.ts';
import { CompiledComponent } from '../../../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../../../host/sandbox/live-component.ts';
import { hostImportWat, stateStoreModule } from '../../../support/state-store-wat.ts';

const live: LiveComponent[] = [];
after(() => Promise.all(live.map((l) => l.close())));

test('sleep-ms never returns before the time asked for, as clock.monotonic-ns measures it', async () => {
  // `get` sleeps 1, 2, 3, 1, 2, 3, ... ms, 60 times, and traps at the first sleep that ended early by its own clock.
  const sleeper = stateStoreModule({
    manifest: { capabilities: ['sleep', 'clock'] },
    imports: [hostImportWat('sleep', 'sleep-ms').replace('(func', '(func $sleep'), hostImportWat('clock', 'monotonic-ns').replace('(func', '(func $now')],
    bodies: {
      get: `(local $i i32) (local $ms i32) (local $t i64)
        (loop $l
          (local.set $ms (i32.add (i32.rem_u (local.get $i) (i32.const 3)) (i32.const 1)))
          (local.set $t (call $now))
          (call $sleep (local.get $ms))
          (if (i64.lt_u (i64.sub (call $now) (local.get $t)) (i64.mul (i64.extend_i32_u (local.get $ms)) (i64.const 1000000)))
            (then unreachable))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 60))))
        (i32.const 16)`,
    },
  });
  const component = await LiveComponent.start(await CompiledComponent.compile(sleeper, { source: 'sleeper.wasm' }), { name: 'sleeper', config: new Map(), logger: silentLogger });
  live.push(component);
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(await component.call('get', [{ key: 'k', consistency: 'eventual', metadata: [] }]), { tag: 'ok', val: undefined }, `round ${round}: a sleep ended early`);
  }
});
