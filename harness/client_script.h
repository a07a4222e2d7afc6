#pragma once
// One scenario client playing its steps over whatever connections a backend
// gives it, in blocking style: the same code runs in a simulated process and
// on a real thread. Also the model of what each file may legitimately hold.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "harness/scenario.h"
#include "protocol/connection.h"

namespace ferry::harness {

/// The bytes a put step sends: its content, or size bytes generated from the
/// seed, the client and the step (the same on every backend).
std::string step_content(const Step& step, std::uint64_t seed, std::size_t client_index,
                         std::size_t step_index);

/// What each file name may hold during and after a run: its preloaded content
/// and the content of every put of that name. A file holding anything else is
/// torn or corrupted.
class ContentModel {
  public:
    ContentModel(const Scenario& scenario, std::uint64_t seed);
    bool allows(const std::string& name, const std::string& content) const;
    bool knows(const std::string& name) const { return candidates_.contains(name); }

  private:
    std::map<std::string, std::vector<std::string>> candidates_;
};

struct StepResult {
    enum class Kind {
        ok,                ///< done as the step asked (including an expected ERR)
        remote_error,      ///< an ERR reply the step did not expect
        timed_out,         ///< a call waited longer than the client's timeout
        connection_error,  ///< refused, reset, or the peer broke the protocol
        corrupted,         ///< bytes back differ from bytes sent
        unexpected_ok,     ///< the step expected an ERR and got OK
    };
    Kind kind = Kind::ok;
    int err_code = 0;  ///< for remote_error, and for an expected ERR
    std::string message;
};

std::string_view to_string(StepResult::Kind kind);

struct ClientReport {
    std::vector<StepResult> steps;  ///< one per step run; a client stops after a timeout
    bool finished = false;          ///< ran to its end (not cut off by a deadlock)
};

using ConnectFn = std::function<std::unique_ptr<Connection>()>;

/// Runs client client_index of scenario with seed; results are appended to
/// report as they happen, so a run cut short still shows how far it got.
void run_client(const Scenario& scenario, std::size_t client_index, std::uint64_t seed,
                const ConnectFn& connect, const ContentModel& model, ClientReport& report);

}  // namespace ferry::harness
