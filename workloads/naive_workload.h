#pragma once
// The chapter's chunked upload as a workload: clients put payloads with the
// chapter's client, the chapter's server (behind the protocol's accept loop)
// stores each as upload-1, upload-2, ... and replies with the byte count.
// The model: every reply is the count sent, and every stored file is exactly
// one upload. The protocol breaks both (truncation on a short read) and
// deadlocks on 0 and exactly-CHUNK_SIZE payloads: it is the harness's
// reference victim.

#include <memory>

#include "ferry/harness/workload.h"

namespace ferry::workloads {

std::unique_ptr<harness::Workload> make_naive_workload();

}  // namespace ferry::workloads
