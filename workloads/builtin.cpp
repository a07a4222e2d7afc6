#include "workloads/builtin.h"

#include "workloads/ferry_workload.h"
#include "workloads/naive_workload.h"

namespace ferry::workloads {

void add_builtin_workloads(harness::WorkloadRegistry& registry) {
    registry.add(make_ferry_workload());
    registry.add(make_naive_workload());
}

}  // namespace ferry::workloads
