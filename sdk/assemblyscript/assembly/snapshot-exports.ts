// The exports of the optional `snapshot` interface in canonical ABI form. The entry file of a
// store that extends `SnapshottingStateStore` re-exports this module beside "./state-exports";
// the build renames `tessera_snapshot_<f>` to `tessera:components/snapshot@0.1.0#<f>` and its
// post-return likewise. A store without snapshots does not re-export it and exports none of it.
import "./abort";
import { lowerUnitResult, resetArena } from "./canonical";
import { SnapshotReader, SnapshottingStateStore, SnapshotWriter } from "./snapshot";
import { registeredStateStore } from "./state";

/** Return area of both exports: `list<u8>` (8 bytes) or `result<_, error>` (16). */
const RET_AREA = memory.data(16, 4);

/** The snapshot block the host is reading: lent without a copy, freed by the post-return. */
let lent: usize = 0;

function registeredSnapshottingStore(): SnapshottingStateStore {
  const store = registeredStateStore();
  if (!(store instanceof SnapshottingStateStore)) {
    throw new Error("the entry file re-exports snapshot-exports, but the registered store does not extend SnapshottingStateStore");
  }
  return changetype<SnapshottingStateStore>(store);
}

function releaseLent(): void {
  if (lent != 0) heap.free(lent);
  lent = 0;
}

// snapshot: func() -> list<u8>; the list goes through the return area (ptr 0, len 4).
export function tessera_snapshot_snapshot(): usize {
  resetArena();
  releaseLent();
  const out = new SnapshotWriter();
  registeredSnapshottingStore().snapshot(out);
  const length = out.length;
  lent = out.detach();
  // An empty list owns no memory; any pointer will do (see abi/ABI.md).
  store<u32>(RET_AREA, lent != 0 ? lent : 1);
  store<u32>(RET_AREA, length, 4);
  return RET_AREA;
}

export function cabi_post_tessera_snapshot_snapshot(retArea: usize): void {
  releaseLent();
}

// restore: func(data: list<u8>) -> result<_, error>. The bytes are read where the host put
// them, and freed when the store is done with them.
export function tessera_snapshot_restore(ptr: usize, len: usize): usize {
  resetArena();
  releaseLent();
  const data = len != 0 ? new SnapshotReader(ptr, ptr + len) : new SnapshotReader(0, 0);
  const error = registeredSnapshottingStore().restore(data);
  data.detach();
  if (len != 0) heap.free(ptr);
  lowerUnitResult(RET_AREA, error);
  return RET_AREA;
}

export function cabi_post_tessera_snapshot_restore(retArea: usize): void {
  resetArena();
}
