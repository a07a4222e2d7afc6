#include "ferry/tool/tool.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/workloads.h"
#include "ferry/harness/command_name.h"
#include "ferry/version.h"

namespace ferry::tool {
namespace {

/// The subcommands, each writing its exit code into status.
void add_commands(CLI::App& app, cli::ExitStatus& status) {
    cli::add_serve_command(app, status);
    cli::add_client_commands(app, status);
    cli::add_sim_command(app, status);
    cli::add_scenario_command(app, status);
    cli::add_explore_command(app, status);
    cli::add_describe_commands(app, status);
}

}  // namespace

int run(int argc, char** argv, const AddWorkloads& add_workloads) {
    if (argc > 0)  // reproduce commands name this program: "kv-ferry explore --replay ..."
        harness::set_command_name(std::filesystem::path(argv[0]).filename().string());
    if (add_workloads) {
        try {
            add_workloads(cli::workload_registry());
        } catch (const std::invalid_argument& e) {
            fmt::print(stderr, "ferry: cannot add a workload: {}\n", e.what());
            return cli::exit_usage;
        }
    }
    CLI::App app{
        "ferry: a file-transfer client and server, and the deterministic network simulator "
        "that proves them correct"};
    app.require_subcommand(1);
    app.footer(
        "Examples:\n"
        "  ferry serve --root /srv/files --port 7000\n"
        "  ferry put notes.txt --server 127.0.0.1:7000\n"
        "  ferry explore --workload ferry --time-s 20\n"
        "Each command has --help of its own (ferry put --help); docs/ has the rest.");
    app.set_version_flag("--version", "ferry " FERRY_VERSION);
    cli::ExitStatus status;
    add_commands(app, status);
    std::vector<std::string> names;
    for (const CLI::App* command : app.get_subcommands({}))
        names.push_back(command->get_name());
    if (argc > 1 && argv[1][0] != '-' &&
        std::find(names.begin(), names.end(), argv[1]) == names.end()) {
        // CLI11 would only say that a subcommand is required.
        fmt::print(stderr, "ferry: '{}' is not a command; the commands are {} (ferry --help)\n",
                   argv[1], fmt::join(names, ", "));
        return cli::exit_usage;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return cli::exit_usage;
    } catch (const std::exception& e) {
        fmt::print(stderr, "ferry: {}\n", e.what());
        return cli::exit_failed;
    }
    return status.code;
}

}  // namespace ferry::tool
