// The ferry executable: parses the command line and runs one subcommand.

#include <exception>

#include <fmt/core.h>

#include "cli/commands.h"
#include "ferry/version.h"

int main(int argc, char** argv) {
    CLI::App app{
        "ferry: a file-transfer client and server, and the deterministic network simulator "
        "that proves them correct"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "ferry " FERRY_VERSION);

    ferry::cli::ExitStatus status;
    ferry::cli::add_serve_command(app, status);
    ferry::cli::add_client_commands(app, status);
    ferry::cli::add_sim_command(app, status);
    ferry::cli::add_scenario_command(app, status);
    ferry::cli::add_explore_command(app, status);
    ferry::cli::add_describe_commands(app, status);

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
        return ferry::cli::exit_usage;
    } catch (const std::exception& e) {
        fmt::print(stderr, "ferry: {}\n", e.what());
        return ferry::cli::exit_failed;
    }
    return status.code;
}
