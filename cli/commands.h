#pragma once
// cli/ — the ferry executable. Each subcommand lives in its own file and adds
// itself to the CLI11 app through one function here; main.cpp calls them all.
//
// Exit codes (README.md, docs/architecture.md): 0 passed, 1 failed expectation or corrupted data,
// 2 usage or input error, 3 deadlock, 4 time budget exceeded.

#include <CLI/CLI.hpp>

namespace ferry::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_deadlock = 3;
inline constexpr int exit_time_budget = 4;

/// A subcommand's result: set by its callback, read by main after parsing.
struct ExitStatus {
    int code = exit_ok;
};

void add_serve_command(CLI::App& app, ExitStatus& status);     // serve_command.cpp
void add_client_commands(CLI::App& app, ExitStatus& status);   // client_commands.cpp: put, get, dir
void add_sim_command(CLI::App& app, ExitStatus& status);       // sim_command.cpp
void add_scenario_command(CLI::App& app, ExitStatus& status);  // scenario_command.cpp
void add_explore_command(CLI::App& app, ExitStatus& status);   // explore_command.cpp
/// `explore merge`, under the explore command; returned so explore can tell.
CLI::App* add_explore_merge_command(CLI::App& explore, ExitStatus& status);
void add_describe_commands(CLI::App& app,
                           ExitStatus& status);  // describe_commands.cpp: faults, workloads

}  // namespace ferry::cli
