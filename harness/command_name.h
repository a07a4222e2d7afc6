#pragma once
// The name of the program that prints reproduce commands ("replay: ferry
// explore --replay '...'", "ferry scenario run FILE --seed 3"). It is ferry
// unless a program built on tool::run (ferry/tool/tool.h) knows workloads
// ferry does not: then its commands must name that program. Only what is
// printed depends on it, never a run.

#include <string>

namespace ferry::harness {

/// "ferry" unless set_command_name said otherwise.
const std::string& command_name();
/// Names the program in the commands printed from now on (tool::run does,
/// with its argv[0]'s file name).
void set_command_name(std::string name);

}  // namespace ferry::harness
