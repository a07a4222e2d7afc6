#include "ferry/harness/failure.h"

#include <fmt/core.h>

namespace ferry::harness {

namespace {

struct KindRow {
    FailureKind kind;
    int exit_code;
    std::string_view name;
    std::string_view meaning;
};

constexpr KindRow rows[] = {
#define FERRY_FAILURE_ROW(kind, code, name, meaning) {FailureKind::kind, code, name, meaning},
    FERRY_FAILURE_KINDS(FERRY_FAILURE_ROW)
#undef FERRY_FAILURE_ROW
};

const KindRow& row(FailureKind kind) {
    return rows[static_cast<std::size_t>(kind)];
}

}  // namespace

std::string_view to_string(FailureKind kind) {
    return row(kind).name;
}

std::string_view meaning(FailureKind kind) {
    return row(kind).meaning;
}

int exit_code(FailureKind kind) {
    return row(kind).exit_code;
}

std::optional<FailureKind> parse_failure_kind(std::string_view name) {
    for (const KindRow& r : rows) {
        if (r.name == name)
            return r.kind;
    }
    return std::nullopt;
}

std::string Failure::signature() const {
    if (tag.empty())
        return std::string(to_string(kind));
    return fmt::format("{} ({})", to_string(kind), tag);
}

int exit_code(const std::optional<Failure>& failure) {
    return failure ? exit_code(failure->kind) : 0;
}

}  // namespace ferry::harness
