#include "ferry/harness/workload.h"

#include <stdexcept>

#include <fmt/core.h>

namespace ferry::harness {

std::vector<WorkloadCase> Workload::edge_cases(const DrawOptions&) const {
    return {};
}

std::vector<WorkloadCase> Workload::simpler(const WorkloadCase&) const {
    return {};
}

void WorkloadRegistry::add(std::unique_ptr<Workload> workload) {
    if (find(workload->name()) != nullptr) {
        throw std::invalid_argument(
            fmt::format("a workload named \"{}\" is registered already", workload->name()));
    }
    for (const ParamSpec& setting : workload->schema().settings) {
        if (find_fault_knob(setting.key) != nullptr) {
            throw std::invalid_argument(
                fmt::format("workload \"{}\": setting \"{}\" has a fault knob's name",
                            workload->name(), setting.key));
        }
    }
    workloads_.push_back(std::move(workload));
}

const Workload* WorkloadRegistry::find(std::string_view name) const {
    for (const auto& w : workloads_) {
        if (w->name() == name)
            return w.get();
    }
    return nullptr;
}

std::string WorkloadRegistry::names() const {
    std::string text;
    for (const auto& w : workloads_)
        text += fmt::format("{}{}", text.empty() ? "" : ", ", w->name());
    return text;
}

}  // namespace ferry::harness
