#include "ferry/harness/command_name.h"

#include <utility>

namespace ferry::harness {
namespace {

std::string& name_storage() {
    static std::string name = "ferry";
    return name;
}

}  // namespace

const std::string& command_name() {
    return name_storage();
}

void set_command_name(std::string name) {
    if (!name.empty())
        name_storage() = std::move(name);
}

}  // namespace ferry::harness
