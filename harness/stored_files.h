#pragma once
// A store's committed files with their bytes, for a workload's check and a
// scenario's [expect] files.

#include "ferry/harness/workload_case.h"
#include "ferry/protocol/store.h"

namespace ferry::harness {

/// Every committed file of store with its bytes, sorted by name.
TextTable read_stored_files(Store& store);

}  // namespace ferry::harness
