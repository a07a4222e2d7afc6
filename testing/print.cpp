#include "ferry/testing/print.h"

#include "ferry/sim/trace.h"

namespace ferry::sim {

void PrintTo(RunStatus status, std::ostream* os) {
    *os << to_string(status);
}

void PrintTo(const SimResult& result, std::ostream* os) {
    *os << "SimResult{" << result.summary() << ", digest " << digest_to_hex(result.digest) << ", "
        << result.events << " events";
    if (!result.report.blocked.empty())
        *os << ",\n" << result.report.text();
    *os << "}";
}

}  // namespace ferry::sim
