// ferry serve under abuse, on real loopback sockets, at the default limits:
//
//   BM_FreshClientUnderSlowloris   300 slow clients (one header byte a second
//                                  each, from 300 addresses, reconnecting when
//                                  dropped) and a fresh client's put + get:
//                                  its wait, median and worst of five
//   BM_UploadsUnderSlowloris/1000  the same slow clients and 1,000 concurrent
//                                  uploads of 64 KiB from 1,000 addresses,
//                                  each retried on ERR 503; every file is
//                                  verified byte for byte; the fresh client's
//                                  wait while they run
//
// The slow clients come from 127.0.1.0/24 and up, the uploads from
// 127.0.4.0/22 and up (all of 127/8 is loopback on Linux), so the limit per
// address does not help: what keeps the fresh client's wait short is that a
// new client takes the slot of the connection that has waited longest for a
// request.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include "bench/bench_support.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/real/disk_store.h"
#include "ferry/real/server.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_listener.h"

namespace ferry::bench {
namespace {

using namespace std::chrono_literals;
using WallClock = std::chrono::steady_clock;

constexpr int slow_clients = 300;
constexpr std::size_t upload_bytes = 64 * 1024;

/// 127.0.0.0/8 address number n past base ("127.0.1.0" + 5 = 127.0.1.5).
std::string loopback_address(std::uint32_t base_third_octet, std::uint32_t n) {
    const std::uint32_t value = (127u << 24) | (base_third_octet << 8) | 1u;
    const std::uint32_t address = value + n;
    return fmt::format("{}.{}.{}.{}", address >> 24, (address >> 16) & 255, (address >> 8) & 255,
                       address & 255);
}

/// A non-blocking socket from source to the server, connected (or on its way).
int open_from(const std::string& source, int port, bool wait_connected) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw std::runtime_error("socket failed");
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
        (!wait_connected && ::fcntl(fd, F_SETFL, O_NONBLOCK) != 0) ||
        (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
        ::close(fd);
        throw std::runtime_error(fmt::format("connect from {} failed", source));
    }
    if (wait_connected)
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/// What the slow clients send, one byte at a time: a request line that
/// never ends in time.
constexpr std::string_view slow_line = "PUT a-file-that-takes-for-ever 1048576\n";

/// 300 slowloris clients on one thread: each sends one byte of a request
/// line a second, and reconnects as soon as the server drops it.
class Slowloris {
  public:
    explicit Slowloris(int port)
        : port_(port), thread_([this](std::stop_token stop) { run(stop); }) {}
    std::uint64_t reconnects() const { return reconnects_.load(); }

  private:
    struct Client {
        int fd = -1;
        std::size_t sent = 0;
    };

    void run(const std::stop_token& stop) {
        std::vector<Client> clients(slow_clients);
        for (int tick = 0; !stop.stop_requested(); ++tick) {
            // A tenth of them each 100 ms: one byte a second each.
            for (int i = tick % 10; i < slow_clients; i += 10)
                drip(clients[static_cast<std::size_t>(i)], i);
            std::this_thread::sleep_for(100ms);
        }
        for (auto& client : clients)
            ::close(client.fd);
    }

    void drip(Client& client, int i) {
        if (client.fd >= 0) {
            char sink[256];
            const ssize_t got = ::recv(client.fd, sink, sizeof sink, MSG_DONTWAIT);
            const bool dropped = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
            if (dropped || got > 0) {  // an ERR line or an end: the server let go
                ::close(client.fd);
                client.fd = -1;
                reconnects_.fetch_add(1);
            }
        }
        if (client.fd < 0) {
            client.fd = open_from(loopback_address(1, static_cast<std::uint32_t>(i)), port_, false);
            client.sent = 0;
        }
        const char byte = slow_line[client.sent % slow_line.size()];
        if (::send(client.fd, &byte, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
            ++client.sent;
    }

    int port_;
    std::atomic<std::uint64_t> reconnects_{0};
    std::jthread thread_;
};

struct VectorSink : ByteSink {
    std::vector<std::byte> bytes;
    void write(std::span<const std::byte> chunk) override {
        bytes.insert(bytes.end(), chunk.begin(), chunk.end());
    }
};

/// A connection from source, as ferry's client code takes it.
std::unique_ptr<TcpConnection> connect_from(const std::string& source, int port) {
    const int fd = open_from(source, port, true);
    auto conn = std::make_unique<TcpConnection>(fd, fmt::format("127.0.0.1:{}", port),
                                                SteadyClock::instance());
    conn->set_timeout(30s);
    return conn;
}

/// Puts bytes as name from source, retrying on ERR 503 (the server is truly
/// full) with a growing pause; returns the attempts it took.
int put_with_retries(const std::string& source, int port, const std::string& name,
                     const std::vector<std::byte>& bytes) {
    auto pause = 5ms;
    for (int attempt = 1;; ++attempt) {
        auto conn = connect_from(source, port);
        const MemoryFileReader file(bytes);
        const PutOutcome outcome = FerryClient(*conn).try_put(name, file);
        if (std::holds_alternative<TransferResult>(outcome))
            return attempt;
        const Refusal& refusal = std::get<Refusal>(outcome);
        if (refusal.code != 503 || attempt == 100)
            throw std::runtime_error(fmt::format("put {}: {}", name, refusal.line));
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(200));
    }
}

std::vector<std::byte> read_whole_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> bytes(chars.size());
    std::memcpy(bytes.data(), chars.data(), chars.size());
    return bytes;
}

/// A fresh client's put and get of 4 KiB, from its own address: its wait.
double fresh_client_seconds(int port, int round) {
    const std::vector<std::byte> bytes = random_bytes(4096, static_cast<std::uint64_t>(round));
    const std::string name = fmt::format("fresh-{}", round);
    const std::string source = "127.0.0.1";
    const auto started = WallClock::now();
    put_with_retries(source, port, name, bytes);
    auto conn = connect_from(source, port);
    VectorSink sink;
    FerryClient(*conn).get(name, sink);
    const std::chrono::duration<double> waited = WallClock::now() - started;
    if (sink.bytes != bytes)
        throw std::runtime_error(fmt::format("{} came back different", name));
    return waited.count();
}

#ifdef FERRY_EXECUTABLE
/// Runs the ferry executable with args, quietly; true when it exits 0.
bool run_ferry(const std::vector<std::string>& args) {
    std::string command = FERRY_EXECUTABLE;
    for (const auto& arg : args)
        command += " '" + arg + "'";
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

/// `ferry put` then `ferry get` of 4 KiB, as a person would run them: the
/// wait, processes included.
double fresh_commands_seconds(int port, const std::filesystem::path& scratch, int round) {
    const auto source = scratch / fmt::format("cli-{}.bin", round);
    const auto target = scratch / fmt::format("cli-{}.back", round);
    const auto bytes = random_bytes(4096, 500 + static_cast<std::uint64_t>(round));
    std::ofstream(source, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()));
    const std::string server = fmt::format("127.0.0.1:{}", port);
    const std::string name = fmt::format("cli-{}", round);
    const auto started = WallClock::now();
    if (!run_ferry({"put", source.string(), "--as", name, "--server", server}) ||
        !run_ferry({"get", name, "--output", target.string(), "--server", server}))
        throw std::runtime_error(fmt::format("ferry put/get of {} failed", name));
    const std::chrono::duration<double> waited = WallClock::now() - started;
    if (read_whole_file(target) != bytes)
        throw std::runtime_error(fmt::format("{} came back different", name));
    return waited.count();
}
#endif

/// A server at the default limits on 127.0.0.1, storing into scratch.
struct ServerUnderTest {
    ScratchDir scratch;
    DiskStore store{scratch.path()};
    TcpListener listener{HostPort{"127.0.0.1", 0}, SteadyClock::instance()};
    Server server{listener, store, ServerConfig{}};
    std::future<void> running = std::async(std::launch::async, [this] { server.run(); });
    int port() const { return listener.local_address().port; }
    ~ServerUnderTest() { server.stop(); }
};

void allow_enough_descriptors() {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

double median_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

/// Five fresh clients one after the other: the median and worst wait.
void measure_fresh_clients(benchmark::State& state, int port) {
    std::vector<double> waits;
    for (int round = 0; round < 5; ++round)
        waits.push_back(fresh_client_seconds(port, round));
    state.counters["fresh_median_ms"] = median_of(waits) * 1000;
    state.counters["fresh_worst_ms"] = *std::max_element(waits.begin(), waits.end()) * 1000;
}

void BM_FreshClientUnderSlowloris(benchmark::State& state) {
    allow_enough_descriptors();
    for (auto _ : state) {
        ServerUnderTest server;
        Slowloris slow(server.port());
        std::this_thread::sleep_for(3s);  // every slot taken, the rest queued
        measure_fresh_clients(state, server.port());
#ifdef FERRY_EXECUTABLE
        ScratchDir files;
        std::vector<double> waits;
        for (int round = 0; round < 5; ++round)
            waits.push_back(fresh_commands_seconds(server.port(), files.path(), round));
        state.counters["ferry_put_get_median_ms"] = median_of(waits) * 1000;
        state.counters["ferry_put_get_worst_ms"] =
            *std::max_element(waits.begin(), waits.end()) * 1000;
#endif
        state.counters["slow_reconnects"] = static_cast<double>(slow.reconnects());
        state.counters["ended_for_room"] =
            static_cast<double>(server.server.connections_ended_for_room());
    }
}

/// Runs count uploads at once, each from its own address and with its own
/// bytes; returns the attempts they took in all. Throws on any failure.
int run_uploads(int port, int count, const std::filesystem::path& root) {
    std::vector<std::future<int>> uploads;
    for (int i = 0; i < count; ++i) {
        uploads.push_back(std::async(std::launch::async, [port, i] {
            const auto bytes = random_bytes(upload_bytes, 1000 + static_cast<std::uint64_t>(i));
            return put_with_retries(loopback_address(4, static_cast<std::uint32_t>(i)), port,
                                    fmt::format("upload-{}", i), bytes);
        }));
    }
    int attempts = 0;
    for (auto& upload : uploads)
        attempts += upload.get();
    for (int i = 0; i < count; ++i) {
        const auto expected = random_bytes(upload_bytes, 1000 + static_cast<std::uint64_t>(i));
        if (read_whole_file(root / fmt::format("upload-{}", i)) != expected)
            throw std::runtime_error(fmt::format("upload-{} was stored wrong", i));
    }
    return attempts;
}

void BM_UploadsUnderSlowloris(benchmark::State& state) {
    allow_enough_descriptors();
    const int count = static_cast<int>(state.range(0));
    for (auto _ : state) {
        ServerUnderTest server;
        Slowloris slow(server.port());
        std::this_thread::sleep_for(3s);
        const auto started = WallClock::now();
        auto uploads = std::async(std::launch::async, [&] {
            return run_uploads(server.port(), count, server.scratch.path());
        });
        measure_fresh_clients(state, server.port());
        const int attempts = uploads.get();
        const std::chrono::duration<double> wall = WallClock::now() - started;
        state.counters["uploads_verified"] = count;
        state.counters["upload_attempts"] = attempts;
        state.counters["uploads_wall_s"] = wall.count();
    }
}

}  // namespace

BENCHMARK(BM_FreshClientUnderSlowloris)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UploadsUnderSlowloris)
    ->Arg(1000)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace ferry::bench
