#include "sim/sim_run.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <fmt/core.h>

#include "protocol/ferry_client.h"
#include "protocol/ferry_server.h"
#include "protocol/naive.h"
#include "protocol/span_reader.h"
#include "sim/sim_connection.h"
#include "sim/sim_network.h"
#include "sim/sim_store.h"

namespace ferry::sim {

std::string_view to_string(ProtocolKind protocol) {
    return protocol == ProtocolKind::naive ? "naive" : "ferry";
}

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::passed:
            return "passed";
        case Outcome::failed:
            return "failed";
        case Outcome::deadlock:
            return "deadlock";
        case Outcome::time_budget_exceeded:
            return "time budget exceeded";
    }
    return "?";
}

std::vector<std::byte> payload_for_seed(std::uint64_t seed, std::uint64_t size) {
    std::vector<std::byte> bytes;
    fill_payload_for_seed(seed, size, bytes);
    return bytes;
}

namespace {

/// x86-64 gets an AVX2 clone of the generator, chosen at load time where the
/// CPU has it (the same bytes either way).
#if defined(__x86_64__)
#define FERRY_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define FERRY_AVX2_CLONE
#endif

/// Words [0, count) of splitmix64 from state, in the machine's byte order,
/// into out. Each word depends only on its index, so this vectorises.
FERRY_AVX2_CLONE void fill_splitmix64_words(std::uint64_t state, std::byte* out,
                                            std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint64_t word = splitmix64_mix(state + (i + 1) * splitmix64_gamma);
        std::memcpy(out + i * sizeof word, &word, sizeof word);
    }
}

}  // namespace

void fill_payload_for_seed(std::uint64_t seed, std::uint64_t size, std::vector<std::byte>& bytes) {
    bytes.resize(size);
    std::uint64_t state = seed ^ 0x7061796c6f616400ULL;  // "payload"
    const std::size_t words = bytes.size() / sizeof(std::uint64_t);
    fill_splitmix64_words(state, bytes.data(), words);
    const std::size_t left = bytes.size() % sizeof(std::uint64_t);
    if (left != 0) {
        state += words * splitmix64_gamma;
        const std::uint64_t word = splitmix64(state);
        std::memcpy(bytes.data() + words * sizeof word, &word, left);
    }
}

namespace {

std::string connection_error_text(const ConnectionError& e) {
    return fmt::format("connection error ({}): {}", to_string(e.kind()), e.what());
}

std::string server_answered_text(std::string_view err_line) {
    return fmt::format("server answered {}", err_line);
}

/// Runs body(context), turning the errors protocol code may throw into a
/// message. Not inlined, and not a template: every frame an exception passes
/// costs the unwinder a scan of its tables, so the frame that catches is kept
/// small.
[[gnu::noinline]] std::string capture_error_in(void (*body)(void*), void* context) {
    try {
        body(context);
    } catch (const ConnectionError& e) {
        return connection_error_text(e);
    } catch (const RemoteError& e) {
        return server_answered_text(e.line());
    } catch (const CorruptedTransfer& e) {
        return fmt::format("corrupted transfer: {}", e.what());
    } catch (const ProtocolError& e) {
        return fmt::format("protocol error: {}", e.what());
    } catch (const StoreError& e) {
        return fmt::format("store error ({}): {}", to_string(e.kind()), e.what());
    }
    return {};
}

template <typename Body>
std::string capture_error(Body&& body) {
    using Callable = std::remove_reference_t<Body>;
    return capture_error_in([](void* context) { (*static_cast<Callable*>(context))(); },
                            static_cast<void*>(&body));
}

}  // namespace

TransferReport run_transfer(const TransferSpec& spec) {
    auto payload = spec.payload ? spec.payload
                                : std::make_shared<const std::vector<std::byte>>(
                                      payload_for_seed(spec.seed, spec.size_bytes));
    const SharedBytesReader reader(payload);

    SimOptions options;
    options.seed = spec.seed;
    options.faults = spec.faults;
    options.time_budget = spec.time_budget;
    // Not in a std::optional: GCC 12's zeroes all 6 KB of it first.
    Simulation sim(options, spec.decisions);
    sim.decisions().record_into(spec.record_decisions);
    sim.trace().write_json_lines_to(spec.trace_json);
    sim.trace().set_digest_enabled(spec.trace_digest);
    SimStore store(sim, spec.store_faults);

    TransferReport report;
    std::string naive_reply;

    // What the processes use lives here, outside the branches: the processes
    // run later, in sim.run().
    FerryServerConfig config;
    if (spec.chunk_bytes != 0)
        config.chunk_bytes = spec.chunk_bytes;
    config.idle_timeout = spec.server_idle_timeout;
    const std::size_t chunk = spec.chunk_bytes != 0                  ? spec.chunk_bytes
                              : spec.protocol == ProtocolKind::naive ? naive_chunk_bytes_default
                                                                     : config.chunk_bytes;
    // The server listens; a client that ends without having connected (its
    // connect refused or timed out) closes the listener, so the server's
    // accept returns instead of waiting for a client that will never come.
    std::unique_ptr<SimListener> listener;
    bool client_connected = false;
    auto accept_client = [&] {
        listener = sim.network().listen(transfer_server_address);
        auto conn = listener->accept();
        listener->close();
        client_connected = conn != nullptr;
        return conn;
    };
    auto client_done = [&] {
        if (listener)
            listener->close();
    };
    const bool naive = spec.protocol == ProtocolKind::naive;
    auto server_body = [&] {
        report.server_error = capture_error([&] {
            auto conn = accept_client();
            if (!conn)
                return;
            if (naive) {
                serve_naive_upload(*conn, store, transfer_file_name, chunk);
                conn->close();
            } else {
                serve_ferry_connection(*conn, store, config);
            }
        });
        if (!client_connected && report.server_error.empty())
            report.server_error = "no client connected";
    };
    auto client_body = [&] {
        // A refused connect is returned, not thrown: under the explorer's
        // faults it is common, and a throw costs more than the whole run.
        // The chapter's client, like the chapter's, has no timeout.
        auto connected = sim.network().connect_or_error(
            transfer_server_address,
            naive ? std::nullopt : std::optional<Duration>(spec.client_timeout));
        if (const auto* error = std::get_if<ConnectionError>(&connected)) {
            report.client_error = connection_error_text(*error);
            client_done();
            return;
        }
        std::string refusal_line;
        report.client_error = capture_error([&] {
            auto& conn = std::get<std::unique_ptr<SimConnection>>(connected);
            if (naive) {
                naive_reply = naive_put(*conn, reader, chunk).reply;
            } else {
                conn->set_timeout(spec.client_timeout);
                FerryClient client(*conn, chunk);
                // A refusal is returned, not thrown, for the same reason.
                // Like any other error, it leaves the connection to be closed
                // when this process ends.
                PutOutcome outcome = client.try_put(transfer_file_name, reader);
                if (auto* refusal = std::get_if<Refusal>(&outcome)) {
                    refusal_line = std::move(refusal->line);
                    return;
                }
            }
            conn->close();
        });
        if (!refusal_line.empty())
            report.client_error = server_answered_text(refusal_line);
        client_done();
    };
    // Each process gets a pointer to its body: small enough for
    // std::function to hold in place, where the body's captures are not.
    sim.spawn("server", [body = &server_body] { (*body)(); });
    sim.spawn("client", [body = &client_body] { (*body)(); });

    const SimResult result = sim.run();
    report.digest = result.digest;
    report.end_time = result.end_time;
    report.events = result.events;

    // What the server kept, compared with what the client sent.
    const std::optional<std::uint64_t> stored_size = store.file_size(transfer_file_name);
    report.stored_bytes = stored_size.value_or(0);
    std::optional<std::uint64_t> differs_at;  // when the sizes agree
    if (stored_size && *stored_size == payload->size() && spec.check_stored_bytes) {
        differs_at = store.first_difference(transfer_file_name, *payload);
    }
    const bool stored_intact = stored_size && *stored_size == payload->size() && !differs_at;

    auto errors = [&] {
        std::string text;
        if (!report.client_error.empty())
            text += fmt::format("client: {}", report.client_error);
        if (!report.server_error.empty()) {
            if (!text.empty())
                text += "; ";
            text += fmt::format("server: {}", report.server_error);
        }
        for (const ProcessFailure& failure : result.failures) {
            if (!text.empty())
                text += "; ";
            text += fmt::format("{} threw: {}", failure.process, failure.message);
        }
        return text;
    };

    if (result.status == RunStatus::deadlock) {
        report.outcome = Outcome::deadlock;
        report.deadlock = result.report;
        report.detail = "no process can run and nothing is in flight\n" + result.report.text();
    } else if (result.status == RunStatus::time_budget_exceeded) {
        report.outcome = Outcome::time_budget_exceeded;
        report.deadlock = result.report;
        report.detail =
            fmt::format(
                "still running after {} s of virtual time\n",
                std::chrono::duration_cast<std::chrono::seconds>(spec.time_budget).count()) +
            result.report.text();
    } else if (!result.failures.empty() || !report.client_error.empty() ||
               !report.server_error.empty()) {
        report.outcome = Outcome::failed;
        report.detail = errors();
        // An error is allowed; a wrong file is not.
        if (stored_size && !stored_intact) {
            report.detail +=
                fmt::format("; and the server kept a wrong file of {} bytes", *stored_size);
        }
    } else if (!stored_size) {
        report.outcome = Outcome::failed;
        report.detail = "the server stored nothing";
    } else if (!stored_intact) {
        report.outcome = Outcome::failed;
        if (*stored_size != payload->size()) {
            report.detail =
                fmt::format("server stored {} of {} bytes", *stored_size, payload->size());
        } else {
            report.detail = fmt::format("server stored {} bytes that differ from byte {}",
                                        *stored_size, *differs_at);
        }
    } else if (spec.protocol == ProtocolKind::naive &&
               naive_reply != std::to_string(payload->size())) {
        report.outcome = Outcome::failed;
        report.detail =
            fmt::format("client got reply \"{}\", expected \"{}\"", naive_reply, payload->size());
    } else {
        report.outcome = Outcome::passed;
    }
    if (report.outcome != Outcome::passed && spec.recent_events_count != 0)
        report.recent_events = sim.trace().recent_text(spec.recent_events_count);
    sim.stop_processes();
    return report;
}

}  // namespace ferry::sim
