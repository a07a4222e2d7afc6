#include "ferry/workloads/builtin.h"

#include <stdexcept>

#include <fmt/core.h>

#include "ferry/workloads/ferry_workload.h"
#include "ferry/workloads/naive_workload.h"

namespace ferry::workloads {

void add_builtin_workloads(harness::WorkloadRegistry& registry) {
    registry.add(make_ferry_workload());
    registry.add(make_naive_workload());
}

const harness::WorkloadRegistry& builtin_workloads() {
    static const harness::WorkloadRegistry registry = [] {
        harness::WorkloadRegistry r;
        add_builtin_workloads(r);
        return r;
    }();
    return registry;
}

const harness::Workload& builtin_workload(std::string_view name) {
    const harness::Workload* workload = builtin_workloads().find(name);
    if (workload == nullptr) {
        throw std::invalid_argument(
            fmt::format("no workload \"{}\" (known: {})", name, builtin_workloads().names()));
    }
    return *workload;
}

}  // namespace ferry::workloads
