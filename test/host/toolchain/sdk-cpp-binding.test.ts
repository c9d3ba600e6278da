// The C++ SDK's binding API as a component author uses it: one class of both directions
// (`InputBinding` and `OutputBinding`, exported with TESSERA_EXPORT_INPUT_OUTPUT_BINDING) with
// one `init`, events read and acknowledged (a failure delivered again), an operation that
// reports what was acknowledged, and `tessera::timezone`; built with the real toolchain and
// run through the host.
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ABI_VERSION } from '../../../abi/ts/manifest.ts';
import { silentLogger } from '../../../host/observability/logger.ts';
import { CompiledComponent } from '../../../host/sandbox/compiled-component.ts';
import { LiveComponent } from '../../../host/sandbox/live-component.ts';
import { buildCppComponent } from '../../../host/toolchain/cpp.ts';
import { tempDir } from '../../support/temp-dir.ts';
import { needs } from '../../support/tools.ts';

const SOURCE = `#include <tessera/tessera.h>

#include <deque>
#include <string>

TESSERA_BINDING_MANIFEST("bindings.queue", "v1", "A queue of numbered events, both directions.", "timezone");

namespace {

class Queue final : public tessera::InputBinding, public tessera::OutputBinding {
 public:
  tessera::Status init(tessera::Metadata config) override {
    std::optional<std::string_view> count = config.get("events");
    if (!count) return tessera::Error::invalid_argument("metadata events is required");
    int n = 0;
    for (char c : *count) n = n * 10 + (c - '0');
    for (int i = 0; i < n; i++) waiting_.push_back(std::to_string(i));
    return {};
  }

  tessera::ReadResult read(std::uint32_t max_events, std::uint32_t) override {
    std::vector<tessera::Event> out;
    while (!waiting_.empty() && out.size() < max_events) {
      out.emplace_back(waiting_.front(), tessera::Bytes{'e'}, tessera::Metadata({{"n", waiting_.front()}}), "text/plain");
      waiting_.pop_front();
    }
    return out;
  }

  tessera::Status ack(std::string id, tessera::EventOutcome outcome) override {
    if (outcome == tessera::EventOutcome::Failure) waiting_.push_back(std::move(id));
    else done_ += id + ",";
    return {};
  }

  std::vector<std::string> operations() override { return {tessera::operation::list, "offset"}; }

  tessera::InvokeResult invoke(tessera::InvokeRequest req) override {
    if (req.operation == "offset") {
      tessera::Result<std::int32_t> minutes = tessera::timezone::utc_offset_minutes(std::string(req.data.begin(), req.data.end()), 1784030400000ull);
      if (!minutes) return minutes.error();
      const std::string text = std::to_string(*minutes);
      return tessera::InvokeResponse(tessera::Bytes(text.begin(), text.end()));
    }
    return tessera::InvokeResponse(tessera::Bytes(done_.begin(), done_.end()));
  }

 private:
  std::deque<std::string> waiting_;
  std::string done_;
};

}  // namespace

TESSERA_EXPORT_INPUT_OUTPUT_BINDING(Queue);
`;

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir('tessera-cpp-binding-');
});
after(() => work.remove());

test('a C++ binding of both directions reads, acknowledges, redelivers a failure and serves operations', needs('clang'), async () => {
  const dir = join(work.path, 'queue');
  await mkdir(dir);
  await writeFile(join(dir, 'main.cpp'), SOURCE);
  await buildCppComponent(dir, join(dir, 'queue.wasm'));
  const compiled = await CompiledComponent.compile(new Uint8Array(await readFile(join(dir, 'queue.wasm'))));
  assert.deepEqual([compiled.manifest.kind, compiled.manifest.type, compiled.manifest.abi], ['binding', 'bindings.queue', ABI_VERSION]);
  assert.deepEqual([...compiled.optionalExports].sort(), ['input', 'output']);
  const live = await LiveComponent.start(compiled, { name: 'queue', config: new Map([['events', '3']]), logger: silentLogger });
  try {
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    type Ev = { id: string; data: Uint8Array; metadata: [string, string][]; contentType?: string };
    const read = async (max: number) => ((await live.call('input#read', [max, 0])) as { tag: 'ok'; val: Ev[] }).val;
    const first = await read(2);
    assert.deepEqual(first.map((e) => [e.id, text(e.data), e.metadata, e.contentType]), [['0', 'e', [['n', '0']], 'text/plain'], ['1', 'e', [['n', '1']], 'text/plain']]);
    assert.deepEqual(await live.call('input#ack', ['0', 'success']), { tag: 'ok', val: undefined });
    await live.call('input#ack', ['1', 'failure']);
    assert.deepEqual((await read(10)).map((e) => e.id), ['2', '1'], 'the failed event comes again');
    await live.call('input#ack', ['2', 'success']);
    assert.deepEqual(await live.call('output#operations', []), ['list', 'offset']);
    const listed = (await live.call('output#invoke', [{ operation: 'list', data: new Uint8Array(), metadata: [] }])) as { tag: 'ok'; val: { data: Uint8Array } };
    assert.equal(text(listed.val.data), '0,2,');
    const offset = (await live.call('output#invoke', [{ operation: 'offset', data: new TextEncoder().encode('Europe/Paris'), metadata: [] }])) as { tag: 'ok'; val: { data: Uint8Array } };
    assert.equal(text(offset.val.data), '120', 'Paris in July 2026 is UTC+2');
    const unknown = (await live.call('output#invoke', [{ operation: 'offset', data: new TextEncoder().encode('Nowhere/Else'), metadata: [] }])) as { tag: 'err'; val: { tag: string; val: string } };
    assert.equal(unknown.val.tag, 'invalid-argument');
    assert.deepEqual(await live.call('ping', []), { tag: 'ok', val: undefined });
  } finally {
    await live.close();
  }
});
