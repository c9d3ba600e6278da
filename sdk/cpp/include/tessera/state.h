// The state-store world as C++ sees it: the `StateStore` base class a component derives from,
// over the requests and responses of abi/wit/state.wit (generated/state.h: `GetRequest`,
// `GetResponse`, `SetRequest`, `DeleteRequest`, `BulkGetItem`, `TransactOperation`,
// `Concurrency`, `Consistency`). The optional `Snapshotting` interface (WIT interface
// `snapshot`) is in snapshot.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "generated/state.h"
#include "snapshot.h"
#include "types.h"

namespace tessera {

/** The optional features a store can advertise from `features()`, as Dapr names them. */
namespace feature {
inline constexpr const char* etag = "ETAG";
inline constexpr const char* transactional = "TRANSACTIONAL";
inline constexpr const char* ttl = "TTL";
}  // namespace feature

/** What `get` answers: a response, `std::nullopt` (the key does not exist), or an error. */
using GetResult = Result<std::optional<GetResponse>>;

/** What `bulk_get` answers: one item per key, or an error for the whole call. */
using BulkGetResult = Result<std::vector<BulkGetItem>>;

/**
 * A state store. Derive from it, implement `get`, `set` and `del`, override what else the
 * store supports, and name the class in `TESSERA_EXPORT_STATE_STORE`. The host calls one
 * method at a time and never re-enters: no locking. Each method owns its arguments (move
 * `req.value` into the store rather than copying it).
 */
class StateStore {
 public:
  virtual ~StateStore() = default;

  /** Called once, before any other method, with the Component YAML's `spec.metadata`. */
  virtual Status init(Metadata config) {
    (void)config;
    return {};
  }

  /** The optional features the store implements (`feature::etag`, `feature::transactional`, `feature::ttl`). */
  virtual std::vector<std::string> features() { return {}; }

  virtual GetResult get(GetRequest req) = 0;

  virtual Status set(SetRequest req) = 0;

  /** WIT `delete` (a C++ keyword). */
  virtual Status del(DeleteRequest req) = 0;

  /** Answers each key with `get`; a key whose get fails carries the error message, the others still answer. */
  virtual BulkGetResult bulk_get(std::vector<GetRequest> reqs) {
    std::vector<BulkGetItem> items;
    items.reserve(reqs.size());
    for (GetRequest& req : reqs) {
      std::string key = req.key;
      GetResult result = get(std::move(req));
      if (result.ok()) {
        items.emplace_back(std::move(key), std::move(result).value());
      } else {
        items.emplace_back(std::move(key), std::nullopt, result.error().message);
      }
    }
    return items;
  }

  /** Calls `set` for each request in order and stops at the first error (not atomic). */
  virtual Status bulk_set(std::vector<SetRequest> reqs) {
    for (SetRequest& req : reqs) {
      Status status = set(std::move(req));
      if (!status.ok()) return status;
    }
    return {};
  }

  /** Calls `del` for each request in order and stops at the first error (not atomic). */
  virtual Status bulk_delete(std::vector<DeleteRequest> reqs) {
    for (DeleteRequest& req : reqs) {
      Status status = del(std::move(req));
      if (!status.ok()) return status;
    }
    return {};
  }

  /** Applies every operation in order, all or none. A store that advertises `TRANSACTIONAL` overrides it. */
  virtual Status transact(std::vector<TransactOperation> operations, Metadata metadata) {
    (void)operations;
    (void)metadata;
    return StateError::internal("this state store does not support transactions (it does not advertise TRANSACTIONAL)");
  }

  /** Checks the store can serve; answer `StateError::unavailable(...)` when its backend is unreachable. */
  virtual Status ping() { return {}; }
};

}  // namespace tessera
