#pragma once
// Runs work(i) for every i in [0, n) on up to 8 threads, the caller's among
// them, and returns once all have run. For syncs: issued side by side, the
// file system commits them together and the block layer merges their cache
// flushes (ext4 sends one per fdatasync whose journal commit came first).
//
// The 7 helper threads start at the first call and are kept, asleep on a
// condition variable, for the life of the process: starting threads for
// every group of syncs cost more CPU than the syncs themselves. Calls from
// several threads share the helpers. `work` must not throw.

#include <cstddef>
#include <functional>

namespace fitbridge {

void for_each_side_by_side(size_t n, const std::function<void(size_t)>& work);

}  // namespace fitbridge
