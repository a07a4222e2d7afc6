#pragma once
// What a workload runs on: a world of processes, connections and a store,
// simulated (harness/sim_driver.h) or real (harness/real_driver.h). A
// workload sets up its servers and clients through this interface only, so
// one workload runs on both backends unchanged.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ferry/harness/stored_files.h"
#include "ferry/harness/workload_case.h"
#include "ferry/protocol/clock.h"
#include "ferry/protocol/connection.h"
#include "ferry/protocol/listener.h"
#include "ferry/protocol/store.h"
#include "ferry/protocol/task_runner.h"

namespace ferry::harness {

class World : public TaskRunner {
  public:
    virtual const Clock& clock() const = 0;
    /// Listens on a simulated address ("server:9000"); on real sockets an
    /// ephemeral port on 127.0.0.1 stands for it.
    virtual std::unique_ptr<Listener> listen(const std::string& address) = 0;
    /// A connection, or why there is none (refused, timed out).
    using ConnectResult = std::variant<std::unique_ptr<Connection>, ConnectionError>;
    /// Connects to an address given to listen(). Only from a process of this
    /// world. A refused or timed-out connect is returned, not thrown: under
    /// an explorer's faults it is common, and a throw costs more than the
    /// rest of such a run.
    virtual ConnectResult try_connect(const std::string& address,
                                      std::optional<Duration> timeout) = 0;
    /// try_connect, throwing the ConnectionError.
    std::unique_ptr<Connection> connect(const std::string& address,
                                        std::optional<Duration> timeout) {
        ConnectResult result = try_connect(address, timeout);
        if (auto* error = std::get_if<ConnectionError>(&result))
            throw *error;
        return std::move(std::get<std::unique_ptr<Connection>>(result));
    }
    /// A client: the run is over when every client has returned. (spawn(),
    /// from TaskRunner, starts a background process the run does not wait
    /// for: a server and the tasks it serves connections on.)
    virtual void spawn_client(std::string name, std::function<void()> body) = 0;
    /// Starts the server's machine: boot runs as its first process with the
    /// store of this boot, and what it spawns runs on the machine too. In
    /// the simulator the plan's crash kills the machine (every one of those
    /// processes) and, with a restart, runs boot again 1 ms later on a store
    /// opened afresh on the same disk, whose startup cleans up what the dead
    /// one left. A workload without a store may spawn its server instead.
    virtual void start_server(std::string name, std::function<void(Store&)> boot) = 0;
    /// The server's store, with the fault plan's disk faults: the current
    /// boot's. After a simulated run, the store as the server opens it after
    /// the power loss the simulator adds at the end of every run.
    virtual Store& store() = 0;
    /// When the server's machine lost power during the run (a kill keeps the
    /// page cache, so it is not one).
    virtual std::vector<Instant> power_losses() const { return {}; }
    /// The server's files (every valid name) as the run left them, before
    /// the power loss at the end of a simulated run; none on real sockets.
    virtual std::optional<StoredContents> files_at_end() const { return std::nullopt; }
    /// Puts a file in the store before the run, past its faults.
    virtual void preload_file(const std::string& name, std::string_view content) = 0;
    /// Puts an empty directory in the store's root before the run, under a
    /// name a client may ask for: what a store must refuse to replace.
    virtual void preload_directory(const std::string& name) = 0;
    /// Waits for duration of the world's time. Only from a process.
    virtual void sleep(Duration duration) = 0;
    /// Adds a line of the workload's own to the run's trace.
    virtual void annotate(std::string_view text) = 0;
    /// The run's seed: what payloads are generated from.
    virtual std::uint64_t seed() const = 0;
    /// "sim" or "real".
    virtual std::string_view backend() const = 0;
};

}  // namespace ferry::harness
