// The ferry executable: the command line of tool/ with ferry's workloads and
// those of the key-value example (examples/kv), as a user's own tool would
// add theirs.

#include "ferry/tool/tool.h"
#include "kv_workload.h"

int main(int argc, char** argv) {
    return ferry::tool::run(argc, argv, [](ferry::harness::WorkloadRegistry& workloads) {
        workloads.add(kv::make_kv_workload(false));
        workloads.add(kv::make_kv_workload(true));
    });
}
