#pragma once
// A store's committed files with their bytes, for a workload's check and a
// scenario's [expect] files.

#include <string>
#include <utility>
#include <vector>

#include "ferry/harness/workload_case.h"
#include "ferry/protocol/store.h"
#include "ferry/sim/compact_bytes.h"

namespace ferry::harness {

/// Files by name with their bytes, a generated payload held as its stream.
using StoredContents = std::vector<std::pair<std::string, sim::CompactBytes>>;

/// Every committed file of store with its bytes, sorted by name.
TextTable read_stored_files(Store& store);
/// The same, read a piece at a time: a payload of any size costs no memory.
StoredContents read_stored_contents(Store& store);

}  // namespace ferry::harness
