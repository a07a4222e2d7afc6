#include "cli/workloads.h"

#include "ferry/workloads/builtin.h"
#include "kv_workload.h"

namespace ferry::cli {

const harness::WorkloadRegistry& known_workloads() {
    static const harness::WorkloadRegistry registry = [] {
        harness::WorkloadRegistry r;
        workloads::add_builtin_workloads(r);
        r.add(kv::make_kv_workload(false));
        r.add(kv::make_kv_workload(true));
        return r;
    }();
    return registry;
}

}  // namespace ferry::cli
