// kv-ferry: ferry's command line knowing kv/1's workloads, so `kv-ferry
// explore --workload kv`, `kv-ferry sim --replay '...'` and scenario files
// with workload = "kv" work for this protocol as they do for ferry/1.

#include "ferry/tool/tool.h"
#include "kv_workload.h"

int main(int argc, char** argv) {
    return ferry::tool::run(argc, argv, [](ferry::harness::WorkloadRegistry& workloads) {
        workloads.add(kv::make_kv_workload(false));
        workloads.add(kv::make_kv_workload(true));
    });
}
