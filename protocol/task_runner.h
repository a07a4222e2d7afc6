#pragma once
// How a server runs work concurrently without knowing on what: a thread per
// task over real sockets, a simulated process per task in the simulator.

#include <functional>
#include <string>

namespace ferry {

class TaskRunner {
  public:
    virtual ~TaskRunner() = default;
    /// Starts body, concurrently with the caller; name says what it is (for
    /// logs and traces). Throws std::exception when the task cannot start
    /// (no thread to be had); body is then not run.
    virtual void spawn(std::string name, std::function<void()> body) = 0;
};

}  // namespace ferry
