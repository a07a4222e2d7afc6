// A real `ferry serve` process's memory, started as a child, with its root on
// tmpfs:
//   BM_ServerPeakRss1GiB       its peak resident memory (VmHWM) while it
//                              receives a 1 GiB upload: ferry/1 streams a chunk
//                              at a time. Target: under 64 MiB.
//   BM_ServerRssPerConnection  the resident memory (VmRSS) each of 500
//                              connections adds, idle (waiting for a request;
//                              target: 24 KiB, nginx's figure) and active (an
//                              upload's body arriving).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/bench_support.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_connection.h"

// CMake passes the path of the ferry it built; otherwise look it up on PATH.
#ifndef FERRY_EXECUTABLE
#define FERRY_EXECUTABLE "ferry"
#endif

namespace ferry::bench {
namespace {

constexpr std::uint64_t upload_bytes = 1024 * mib;

/// A `ferry serve --port 0` child process; stopped with SIGTERM.
class ServeProcess {
  public:
    explicit ServeProcess(const std::filesystem::path& root,
                          const std::vector<std::string>& extra_args = {}) {
        std::vector<std::string> args = {"ferry", "serve", "--root", root.string(), "--port", "0"};
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        std::vector<char*> argv;
        for (auto& arg : args)
            argv.push_back(arg.data());
        argv.push_back(nullptr);
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0)
            return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            const int null_fd = ::open("/dev/null", O_WRONLY);
            if (null_fd >= 0)
                ::dup2(null_fd, STDERR_FILENO);
            ::execvp(FERRY_EXECUTABLE, argv.data());
            ::_exit(127);
        }
        ::close(out[1]);
        first_line_ = read_line(out[0], 10000);
        ::close(out[0]);
    }
    ~ServeProcess() { stop(); }
    ServeProcess(const ServeProcess&) = delete;
    ServeProcess& operator=(const ServeProcess&) = delete;

    /// "127.0.0.1:PORT", or none if the server did not start.
    std::optional<std::string> address() const {
        const std::string prefix = "listening on ";
        if (!first_line_.starts_with(prefix))
            return std::nullopt;
        return first_line_.substr(prefix.size());
    }
    /// VmHWM from /proc/PID/status in KiB, or -1.
    long peak_rss_kib() const { return status_kib("VmHWM:"); }
    /// VmRSS from /proc/PID/status in KiB, or -1.
    long rss_kib() const { return status_kib("VmRSS:"); }
    /// A line of /proc/PID/status in KiB, or -1.
    long status_kib(std::string_view wanted) const {
        std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
        std::string key;
        while (status >> key) {
            if (key == wanted) {
                long kib = -1;
                status >> kib;
                return kib;
            }
            status.ignore(1 << 12, '\n');
        }
        return -1;
    }
    /// SIGTERM, then the exit status (-1 if it did not exit normally).
    int stop() {
        if (pid_ <= 0)
            return -1;
        ::kill(pid_, SIGTERM);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

  private:
    static std::string read_line(int fd, int timeout_ms) {
        std::string line;
        char c = 0;
        pollfd waiting{fd, POLLIN, 0};
        while (::poll(&waiting, 1, timeout_ms) > 0 && ::read(fd, &c, 1) == 1 && c != '\n') {
            line.push_back(c);
        }
        return line;
    }

    pid_t pid_ = -1;
    std::string first_line_;
};

void BM_ServerPeakRss1GiB(benchmark::State& state) {
    ScratchDir root;
    ServeProcess serve(root.path());
    const auto address = serve.address();
    if (!address) {
        state.SkipWithError("ferry serve did not start");
        return;
    }
    const RepeatingFileReader reader(upload_bytes, 1024 * 1024 + 7, 7);
    for (auto _ : state) {
        auto conn = connect_tcp(parse_host_port(*address), SteadyClock::instance());
        FerryClient client(*conn, 256 * 1024);
        TransferResult result = client.put("big.bin", reader);
        benchmark::DoNotOptimize(result);
        conn->close();
    }
    const long peak_kib = serve.peak_rss_kib();
    state.counters["server_peak_rss_MiB"] = static_cast<double>(peak_kib) / 1024.0;
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * upload_bytes));
    if (serve.stop() != 0)
        state.SkipWithError("ferry serve did not exit 0 on SIGTERM");
}

void BM_ServerRssPerConnection(benchmark::State& state) {
    constexpr int connections = 500;
    ScratchDir root;
    ServeProcess serve(root.path(), {"--max-connections", "1000", "--max-per-address", "0"});
    const auto address = serve.address();
    if (!address) {
        state.SkipWithError("ferry serve did not start");
        return;
    }
    for (auto _ : state) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const long base_kib = serve.rss_kib();
        std::vector<std::unique_ptr<TcpConnection>> held;
        for (int i = 0; i < connections; ++i)
            held.push_back(connect_tcp(parse_host_port(*address), SteadyClock::instance()));
        std::this_thread::sleep_for(std::chrono::seconds(1));
        const long idle_kib = serve.rss_kib();
        const std::string body(100 * 1024, 'x');
        for (auto& conn : held)
            send_all(*conn, "PUT held 100000000\n" + body);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        const long active_kib = serve.rss_kib();
        state.counters["idle_KiB_per_connection"] =
            static_cast<double>(idle_kib - base_kib) / connections;
        state.counters["active_KiB_per_connection"] =
            static_cast<double>(active_kib - base_kib) / connections;
    }
    if (serve.stop() != 0)
        state.SkipWithError("ferry serve did not exit 0 on SIGTERM");
}

BENCHMARK(BM_ServerRssPerConnection)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ServerPeakRss1GiB)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ferry::bench
