#include "cli/fault_flags.h"

#include <fmt/core.h>

namespace ferry::cli {

std::string flag_name(std::string_view knob_name) {
    std::string flag = "--";
    for (const char ch : knob_name)
        flag += ch == '_' ? '-' : ch;
    return flag;
}

void add_fault_flags(CLI::App& command, FaultFlags& flags) {
    for (const harness::FaultKnob& knob : harness::fault_knobs()) {
        std::string names = flag_name(knob.name);
        for (const auto alias : knob.aliases)
            names += "," + flag_name(alias);
        std::string help =
            fmt::format("{} ({}{})", knob.description, knob.syntax,
                        knob.bare_flag.empty() ? "" : fmt::format("; alone: {}", knob.bare_flag));
        CLI::Option* option =
            command.add_option(names, flags.values[std::string(knob.name)], help)->group("Faults");
        if (!knob.bare_flag.empty())
            option->expected(0, 1);
        flags.options[std::string(knob.name)] = option;
    }
}

std::optional<std::string> apply_fault_flags(const FaultFlags& flags, harness::FaultPlan& plan) {
    for (const harness::FaultKnob& knob : harness::fault_knobs()) {
        const std::string name(knob.name);
        const CLI::Option* option = flags.options.at(name);
        if (option->count() == 0)
            continue;
        std::string value = flags.values.at(name);
        if (value.empty())
            value = std::string(knob.bare_flag);
        if (auto error = knob.parse(plan, value))
            return fmt::format("{}: {}", flag_name(knob.name), *error);
    }
    return std::nullopt;
}

std::string fault_flags_text(const harness::FaultPlan& plan) {
    std::string text;
    for (const harness::FaultKnob& knob : harness::fault_knobs()) {
        if (!knob.is_calm(plan))
            text += fmt::format("{}{} {}", text.empty() ? "" : " ", flag_name(knob.name),
                                knob.text(plan));
    }
    return text;
}

}  // namespace ferry::cli
