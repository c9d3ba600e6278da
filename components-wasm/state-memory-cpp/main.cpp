// state.memory, C++ build: an in-process key/value store with ETags, transactions and TTLs,
// whose data crosses a hot swap through snapshot/restore, streamed in chunks. The same
// component type as the AssemblyScript build in components-wasm/state-memory/; a user picks
// one by file.
#include <tessera/tessera.h>

#include "memory_store.h"

TESSERA_MANIFEST("state.memory", "v1",
                 "In-memory key/value state store with ETags, transactions and TTLs; data lives as long as the instance and crosses a hot swap (C++ build).",
                 "log", "clock");

TESSERA_EXPORT_STREAMING_STATE_STORE(state_memory::MemoryStore);
