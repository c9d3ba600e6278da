// The optional WIT interface `snapshot`, shared by every kind whose data lives in the
// component's own memory: worlds `snapshotting-state-store` and `snapshotting-pubsub-broker`.
#pragma once

#include "types.h"

namespace tessera {

/**
 * The optional WIT interface `snapshot`: a state store or pub/sub broker whose data lives in
 * its own memory derives from this too and is exported with
 * `TESSERA_EXPORT_SNAPSHOTTING_STATE_STORE` or `TESSERA_EXPORT_SNAPSHOTTING_PUBSUB`, so its data
 * crosses a hot swap, a restart after a trap, and hibernation. The host calls `restore` on a new
 * generation right after `init`, with what `snapshot` returned on the old one — possibly an
 * older version of the component: start the bytes with a format version, and keep reading
 * every version you ever wrote.
 */
class Snapshotting {
 public:
  virtual ~Snapshotting() = default;

  /**
   * The component's whole state. Called between any two calls, possibly more than once; it
   * must not change the state. The SDK lends the returned bytes to the host without copying them.
   */
  virtual Bytes snapshot() = 0;

  /**
   * Replaces the state with `data`. Check every length against `data`: a truncated, corrupt or
   * unknown snapshot answers `Error::invalid_argument(...)` and leaves the state as it was.
   */
  virtual Status restore(Bytes data) = 0;
};

}  // namespace tessera
