// The state.memory store: a map from key to item, with store-wide counter ETags, first-write
// and last-write concurrency, all-or-none transactions, TTLs read from the host clock, and
// snapshots so its data crosses a hot swap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <tessera/tessera.h>

#include "item.h"
#include "snapshot_format.h"
#include "ttl.h"

namespace state_memory {

class MemoryStore final : public tessera::StateStore, public tessera::StreamingSnapshot {
 public:
  tessera::Status init(tessera::Metadata config) override;
  std::vector<std::string> features() override;
  tessera::GetResult get(tessera::GetRequest req) override;
  tessera::Status set(tessera::SetRequest req) override;
  tessera::Status del(tessera::DeleteRequest req) override;
  tessera::Status transact(std::vector<tessera::TransactOperation> operations, tessera::Metadata metadata) override;
  void snapshot_begin() override;
  void snapshot_chunk(tessera::SnapshotChunk& out) override;
  tessera::Status restore_chunk(const std::uint8_t* data, std::size_t size, std::size_t offset) override;
  tessera::Status restore_end() override;

 private:
  /** What a transaction has written so far: an item, or nullopt for a delete. */
  using Staged = std::unordered_map<std::string, std::optional<Item>>;

  const Item* live(const std::string& key);
  const Item* staged(Staged& staged, const std::string& key);
  Item new_item(tessera::SetRequest& req, std::uint64_t etag_number, std::int64_t ttl_seconds);
  void put(std::string key, Item item);
  void purge_expired();

  Items items_;
  /** The last ETag handed out: ETags are this counter, in decimal. */
  std::uint64_t etag_counter_ = 0;
  ExpiryQueue expiries_;
  /** The snapshot being taken, between `snapshot_begin` and its last chunk. */
  SnapshotCursor snapshotting_;
  /** The snapshot being restored, between its first chunk and `restore_end`. */
  std::optional<SnapshotDecoder> restoring_;
};

}  // namespace state_memory
