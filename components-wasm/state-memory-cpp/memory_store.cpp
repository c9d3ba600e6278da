// See memory_store.h. The behaviour is state.memory's, as the AssemblyScript build
// (components-wasm/state-memory/assembly/memory-store.ts) defines it, message for message.
#include "memory_store.h"

#include <utility>

namespace state_memory {

using tessera::Status;
using tessera::StateError;

namespace {

bool is_decimal(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

/**
 * Whether a write (or, with `insert_only` false, a delete) may go ahead given the current
 * item. An ETag is checked in both concurrency modes; an empty one counts as none, as in Dapr.
 */
Status check_write(const std::string& key, const Item* current, const std::optional<std::string>& etag,
                   tessera::Concurrency concurrency, bool insert_only) {
  if (etag && !etag->empty()) {
    if (!is_decimal(*etag)) {
      return StateError::etag_invalid("ETag \"" + *etag + "\" for key \"" + key + "\" is not valid: this store's ETags are decimal numbers");
    }
    if (current == nullptr) {
      return StateError::etag_mismatch("key \"" + key + "\" does not exist, so ETag \"" + *etag + "\" cannot match");
    }
    if (current->etag != *etag) {
      return StateError::etag_mismatch("ETag \"" + *etag + "\" does not match key \"" + key + "\" (now at ETag \"" + current->etag +
                                       "\"): read it again and retry");
    }
    return {};
  }
  if (insert_only && current != nullptr && concurrency == tessera::Concurrency::FirstWrite) {
    return StateError::etag_mismatch("key \"" + key + "\" already exists: a first-write without an ETag only inserts a missing key");
  }
  return {};
}

StateError ttl_error(const std::string& key, std::optional<std::string_view> value) {
  return StateError::invalid_argument("ttlInSeconds \"" + std::string(value.value_or("")) + "\" for key \"" + key +
                                      "\" is not an integer from -1 to 2147483647");
}

}  // namespace

Status MemoryStore::init(tessera::Metadata config) {
  // Keys only: configuration values may hold secrets.
  std::string keys;
  for (const auto& [key, value] : config) {
    if (!keys.empty()) keys += ", ";
    keys += key;
  }
  tessera::log::debug("state.memory initialised; config keys: [" + keys + "]");
  return {};
}

std::vector<std::string> MemoryStore::features() {
  return {tessera::feature::etag, tessera::feature::transactional, tessera::feature::ttl};
}

tessera::GetResult MemoryStore::get(tessera::GetRequest req) {
  const Item* item = live(req.key);
  if (item == nullptr) return std::nullopt;
  return item->response;
}

Status MemoryStore::set(tessera::SetRequest req) {
  purge_expired();
  const auto ttl_text = req.metadata.get("ttlInSeconds");
  const std::int64_t ttl = parse_ttl_seconds(ttl_text);
  if (ttl == INVALID_TTL) return ttl_error(req.key, ttl_text);
  Status status = check_write(req.key, live(req.key), req.etag, req.concurrency, true);
  if (!status.ok()) return status;
  Item item = new_item(req, ++etag_counter_, ttl);
  put(std::move(req.key), std::move(item));
  return {};
}

Status MemoryStore::del(tessera::DeleteRequest req) {
  purge_expired();
  const Item* current = live(req.key);
  Status status = check_write(req.key, current, req.etag, req.concurrency, false);
  if (!status.ok()) return status;
  if (current != nullptr) items_.erase(req.key);
  return {};
}

/** Checks every operation against the store as the earlier ones leave it, then applies all or none. */
Status MemoryStore::transact(std::vector<tessera::TransactOperation> operations, tessera::Metadata) {
  purge_expired();
  Staged staged_items;
  std::vector<std::string> order;
  std::uint64_t counter = etag_counter_;
  for (tessera::TransactOperation& op : operations) {
    if (auto* req = std::get_if<tessera::SetRequest>(&op)) {
      const auto ttl_text = req->metadata.get("ttlInSeconds");
      const std::int64_t ttl = parse_ttl_seconds(ttl_text);
      if (ttl == INVALID_TTL) return ttl_error(req->key, ttl_text);
      Status status = check_write(req->key, staged(staged_items, req->key), req->etag, req->concurrency, true);
      if (!status.ok()) return status;
      if (staged_items.count(req->key) == 0) order.push_back(req->key);
      Item item = new_item(*req, ++counter, ttl);
      staged_items.insert_or_assign(std::move(req->key), std::move(item));
    } else {
      auto& del = std::get<tessera::DeleteRequest>(op);
      Status status = check_write(del.key, staged(staged_items, del.key), del.etag, del.concurrency, false);
      if (!status.ok()) return status;
      if (staged_items.count(del.key) == 0) order.push_back(del.key);
      staged_items.insert_or_assign(std::move(del.key), std::nullopt);
    }
  }
  etag_counter_ = counter;
  for (std::string& key : order) {
    std::optional<Item>& item = staged_items[key];
    if (item) {
      put(std::move(key), std::move(*item));
    } else {
      items_.erase(key);
    }
  }
  return {};
}

/** A snapshot of every live item with its ETag, content type and expiry, and the ETag counter (see snapshot_format.h). */
void MemoryStore::snapshot_begin() { snapshotting_.begin(items_, etag_counter_, tessera::clock::now_ms()); }

void MemoryStore::snapshot_chunk(tessera::SnapshotChunk& out) { snapshotting_.write(out); }

/** Reads a chunk into a store built aside; the store itself changes only in `restore_end`. */
Status MemoryStore::restore_chunk(const std::uint8_t* data, std::size_t size, std::size_t offset) {
  if (offset == 0) restoring_.emplace(tessera::clock::now_ms());
  if (!restoring_) {
    return tessera::StateError::invalid_argument("state.memory cannot restore this snapshot: a chunk at byte " + std::to_string(offset) +
                                                 " arrived with no restore under way");
  }
  Status status = restoring_->chunk(data, size, offset);
  if (!status.ok()) restoring_.reset();
  return status;
}

/** Replaces the whole store with the snapshot read, or leaves it untouched when the snapshot is refused. */
Status MemoryStore::restore_end() {
  if (!restoring_) restoring_.emplace(0);
  SnapshotDecoder decoder = std::move(*restoring_);
  restoring_.reset();
  Status status = decoder.end();
  if (!status.ok()) return status;
  Restored& restored = decoder.restored();
  items_ = std::move(restored.items);
  expiries_ = std::move(restored.expiries);
  // Never below what this instance handed out already: an ETag is never reused.
  if (restored.etag_counter > etag_counter_) etag_counter_ = restored.etag_counter;
  tessera::log::debug("state.memory restored " + std::to_string(items_.size()) + " keys from a snapshot of " +
                      std::to_string(decoder.length()) + " bytes");
  return {};
}

/** The item under `key` as a transaction sees it: its own earlier writes first. */
const Item* MemoryStore::staged(Staged& staged_items, const std::string& key) {
  auto it = staged_items.find(key);
  if (it == staged_items.end()) return live(key);
  return it->second ? &*it->second : nullptr;
}

/** The item under `key` unless missing or expired; an expired item is dropped on the way. */
const Item* MemoryStore::live(const std::string& key) {
  auto it = items_.find(key);
  if (it == items_.end()) return nullptr;
  if (it->second.expires_at != 0 && tessera::clock::now_ms() >= it->second.expires_at) {
    items_.erase(it);
    return nullptr;
  }
  return &it->second;
}

Item MemoryStore::new_item(tessera::SetRequest& req, std::uint64_t etag_number, std::int64_t ttl_seconds) {
  const std::uint64_t expires_at =
      ttl_seconds > 0 ? tessera::clock::now_ms() + static_cast<std::uint64_t>(ttl_seconds) * 1000 : 0;
  return Item::create(std::move(req.value), etag_number, std::move(req.content_type), expires_at);
}

void MemoryStore::put(std::string key, Item item) {
  if (item.expires_at != 0) expiries_.push(item.expires_at, key, item.etag);
  items_.insert_or_assign(std::move(key), std::move(item));
}

/** Drops items whose time has come, so keys nobody reads again do not pile up. */
void MemoryStore::purge_expired() {
  if (expiries_.empty()) return;
  const std::uint64_t now = tessera::clock::now_ms();
  while (std::optional<Expiry> due = expiries_.pop_due(now)) {
    auto it = items_.find(due->key);
    if (it != items_.end() && it->second.etag == due->etag) items_.erase(it);
  }
}

}  // namespace state_memory
