#include "harness/client_script.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include <fmt/core.h>

#include "protocol/ferry_client.h"
#include "protocol/naive.h"
#include "protocol/span_reader.h"
#include "sim/decisions.h"

namespace ferry::harness {

namespace {

class StringSink : public ByteSink {
  public:
    void write(std::span<const std::byte> bytes) override { text.append(as_text(bytes)); }
    std::string text;
};

StepResult failure(StepResult::Kind kind, std::string message, int code = 0) {
    return StepResult{kind, code, std::move(message)};
}

}  // namespace

std::string_view to_string(StepResult::Kind kind) {
    switch (kind) {
        case StepResult::Kind::ok:
            return "ok";
        case StepResult::Kind::remote_error:
            return "remote error";
        case StepResult::Kind::timed_out:
            return "timed out";
        case StepResult::Kind::connection_error:
            return "connection error";
        case StepResult::Kind::corrupted:
            return "corrupted";
        case StepResult::Kind::unexpected_ok:
            return "unexpected OK";
    }
    return "unknown";
}

std::string step_content(const Step& step, std::uint64_t seed, std::size_t client_index,
                         std::size_t step_index) {
    if (step.content)
        return *step.content;
    std::uint64_t state = seed;
    state = sim::splitmix64(state) ^ (client_index + 1) * 0x9E3779B97F4A7C15ull;
    state = sim::splitmix64(state) ^ (step_index + 1) * 0xBF58476D1CE4E5B9ull;
    std::string bytes(step.size.value_or(0), '\0');
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
        const std::uint64_t word = sim::splitmix64(state);
        std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, bytes.size() - i));
    }
    return bytes;
}

ContentModel::ContentModel(const Scenario& scenario, std::uint64_t seed) {
    for (const auto& [name, content] : scenario.server.files)
        candidates_[name].push_back(content);
    for (std::size_t c = 0; c < scenario.clients.size(); ++c) {
        const auto& steps = scenario.clients[c].steps;
        for (std::size_t s = 0; s < steps.size(); ++s) {
            if (steps[s].kind == Step::Kind::put) {
                candidates_[steps[s].name].push_back(step_content(steps[s], seed, c, s));
            }
        }
    }
}

bool ContentModel::allows(const std::string& name, const std::string& content) const {
    const auto it = candidates_.find(name);
    if (it == candidates_.end())
        return false;
    return std::find(it->second.begin(), it->second.end(), content) != it->second.end();
}

namespace {

class ClientRunner {
  public:
    ClientRunner(const Scenario& scenario, std::size_t client_index, std::uint64_t seed,
                 const ConnectFn& connect, const ContentModel& model)
        : scenario_(scenario),
          client_index_(client_index),
          seed_(seed),
          connect_(connect),
          model_(model),
          spec_(scenario.clients[client_index]) {}

    void run(ClientReport& report) {
        for (std::size_t i = 0; i < spec_.steps.size(); ++i) {
            const Step& step = spec_.steps[i];
            StepResult result = judge(step, attempt(step, i));
            const bool stop = result.kind == StepResult::Kind::timed_out ||
                              result.kind == StepResult::Kind::connection_error;
            report.steps.push_back(std::move(result));
            if (stop)
                break;
        }
        if (conn_)
            conn_->close();
        report.finished = true;
    }

  private:
    /// An expected ERR turns into ok; an OK where an ERR was expected fails.
    static StepResult judge(const Step& step, StepResult result) {
        if (!step.expect_error)
            return result;
        if (result.kind == StepResult::Kind::remote_error &&
            result.err_code == *step.expect_error) {
            result.kind = StepResult::Kind::ok;
            return result;
        }
        if (result.kind == StepResult::Kind::ok) {
            return failure(
                StepResult::Kind::unexpected_ok,
                fmt::format("expected ERR {} but the server said OK", *step.expect_error));
        }
        return result;
    }

    StepResult attempt(const Step& step, std::size_t index) {
        try {
            if (scenario_.protocol == ScenarioProtocol::naive)
                return naive_step(step, index);
            return ferry_step(step, index);
        } catch (const RemoteError& e) {
            drop_connection();
            return failure(StepResult::Kind::remote_error, e.what(), e.code());
        } catch (const CorruptedTransfer& e) {
            drop_connection();
            return failure(StepResult::Kind::corrupted, e.what());
        } catch (const ProtocolError& e) {
            drop_connection();
            return failure(StepResult::Kind::connection_error, e.what());
        } catch (const std::invalid_argument& e) {
            // A name no request line can carry: the client cannot even ask.
            return failure(StepResult::Kind::connection_error, e.what());
        } catch (const ConnectionError& e) {
            drop_connection();
            const auto kind = e.kind() == ErrorKind::timed_out ? StepResult::Kind::timed_out
                                                               : StepResult::Kind::connection_error;
            return failure(kind, e.what());
        }
    }

    Connection& connection(bool with_timeout) {
        if (!conn_) {
            conn_ = connect_();
            if (with_timeout)
                conn_->set_timeout(std::chrono::milliseconds(spec_.timeout_ms));
        }
        return *conn_;
    }

    void drop_connection() {
        if (!conn_)
            return;
        try {
            conn_->close();
        } catch (const ConnectionError&) {
        }
        conn_.reset();
    }

    StepResult ferry_step(const Step& step, std::size_t index) {
        FerryClient client(connection(true), scenario_.chunk_size);
        switch (step.kind) {
            case Step::Kind::put: {
                const std::string content = step_content(step, seed_, client_index_, index);
                client.put(step.name, SpanReader(as_bytes(content)));
                return {};
            }
            case Step::Kind::get: {
                StringSink sink;
                client.get(step.name, sink);
                if (!model_.allows(step.name, sink.text)) {
                    return failure(StepResult::Kind::corrupted,
                                   fmt::format("GET {} returned {} bytes that no put or preloaded "
                                               "file of that name holds",
                                               step.name, sink.text.size()));
                }
                return {};
            }
            case Step::Kind::dir: {
                const auto files = client.dir();
                for (std::size_t i = 1; i < files.size(); ++i) {
                    if (!(files[i - 1].name < files[i].name)) {
                        return failure(StepResult::Kind::corrupted,
                                       fmt::format("DIR is not sorted: {} before {}",
                                                   files[i - 1].name, files[i].name));
                    }
                }
                for (const auto& file : files) {
                    if (!model_.knows(file.name)) {
                        return failure(StepResult::Kind::corrupted,
                                       fmt::format("DIR lists {}, which nobody put", file.name));
                    }
                }
                return {};
            }
        }
        return {};
    }

    /// The chapter's client: one connection per upload, no timeout (it has
    /// none), and the reply must be the number of bytes sent.
    StepResult naive_step(const Step& step, std::size_t index) {
        const std::string content = step_content(step, seed_, client_index_, index);
        auto& conn = connection(false);
        const NaiveClientResult result =
            naive_put(conn, SpanReader(as_bytes(content)), scenario_.chunk_size);
        drop_connection();
        if (result.reply != std::to_string(content.size())) {
            return failure(StepResult::Kind::corrupted,
                           fmt::format("sent {} bytes but the server replied \"{}\"",
                                       content.size(), result.reply));
        }
        return {};
    }

    const Scenario& scenario_;
    std::size_t client_index_;
    std::uint64_t seed_;
    const ConnectFn& connect_;
    const ContentModel& model_;
    const ClientSpec& spec_;
    std::unique_ptr<Connection> conn_;
};

}  // namespace

void run_client(const Scenario& scenario, std::size_t client_index, std::uint64_t seed,
                const ConnectFn& connect, const ContentModel& model, ClientReport& report) {
    ClientRunner(scenario, client_index, seed, connect, model).run(report);
}

}  // namespace ferry::harness
