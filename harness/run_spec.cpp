#include "ferry/harness/run_spec.h"

namespace ferry::harness {

std::string_view to_string(RunResult::End end) {
    switch (end) {
        case RunResult::End::finished:
            return "finished";
        case RunResult::End::deadlock:
            return "deadlock";
        case RunResult::End::time_budget:
            return "time budget exceeded";
    }
    return "?";
}

}  // namespace ferry::harness
