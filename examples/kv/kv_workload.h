#pragma once
// kv/1 as a harness workload: one to three clients SET, GET and DEL a few
// shared keys; the model is a register per key. Registering it gives the
// protocol every tool ferry has: `ferry sim --workload kv`, `ferry explore
// --workload kv-buggy`, scenario files with workload = "kv".

#include <memory>

#include "ferry/harness/workload.h"

namespace kv {

/// "kv", or with buggy the same protocol with its two slips: "kv-buggy".
std::unique_ptr<ferry::harness::Workload> make_kv_workload(bool buggy);

}  // namespace kv
