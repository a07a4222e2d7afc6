#include "cli/workloads.h"

#include "ferry/workloads/builtin.h"

namespace ferry::cli {

harness::WorkloadRegistry& workload_registry() {
    static harness::WorkloadRegistry registry = [] {
        harness::WorkloadRegistry r;
        workloads::add_builtin_workloads(r);
        return r;
    }();
    return registry;
}

const harness::WorkloadRegistry& known_workloads() {
    return workload_registry();
}

}  // namespace ferry::cli
