// ferry serve: serves a directory over ferry/1 (or the chapter's protocol)
// until SIGINT or SIGTERM.

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/number_checks.h"
#include "ferry/real/disk_store.h"
#include "ferry/real/server.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_listener.h"

namespace ferry::cli {

namespace {

struct ServeOptions {
    std::string root = ".";
    std::string host = "127.0.0.1";
    int port = 6789;
    std::string protocol = "ferry";
    std::optional<std::size_t> chunk_bytes;
    std::uint64_t max_file_bytes = 0;
    bool classic_put_only = false;
    std::size_t max_connections = 256;
    std::size_t max_per_address = 32;
    std::uint64_t min_rate_bytes = 10 * 1024;
    int min_rate_window_ms = 10000;
    int header_timeout_ms = 10000;
    int idle_timeout_ms = 30000;
    int shutdown_grace_ms = 5000;
};

/// The listener and server a signal should reach; set only while the server
/// runs.
std::atomic<TcpListener*> signalled_listener{nullptr};
std::atomic<Server*> signalled_server{nullptr};
/// SIGINTs and SIGTERMs so far.
std::atomic<int> stop_signals{0};

extern "C" void on_stop_signal(int) {
    // Both calls are async-signal-safe: interrupt() writes an eventfd,
    // hurry() stores a lock-free atomic. The first signal begins a graceful
    // shutdown; the next ends it at once.
    if (stop_signals.fetch_add(1) == 0) {
        if (TcpListener* listener = signalled_listener.load())
            listener->interrupt();
    } else if (Server* server = signalled_server.load()) {
        server->hurry();
    }
}

/// Routes SIGINT and SIGTERM to listener.interrupt() (the first) and
/// server.hurry() (any later one) while alive, and ignores SIGPIPE (a client
/// that vanishes must not kill the server).
class StopSignals {
  public:
    StopSignals(TcpListener& listener, Server& server) {
        stop_signals.store(0);
        signalled_listener.store(&listener);
        signalled_server.store(&server);
        struct sigaction action {};
        action.sa_handler = on_stop_signal;
        sigemptyset(&action.sa_mask);
        sigaction(SIGINT, &action, &old_int_);
        sigaction(SIGTERM, &action, &old_term_);
        struct sigaction ignore {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        sigaction(SIGPIPE, &ignore, &old_pipe_);
    }
    ~StopSignals() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
        sigaction(SIGPIPE, &old_pipe_, nullptr);
        signalled_listener.store(nullptr);
        signalled_server.store(nullptr);
    }
    StopSignals(const StopSignals&) = delete;
    StopSignals& operator=(const StopSignals&) = delete;

  private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
    struct sigaction old_pipe_ {};
};

/// The server's log on stderr: one line per event, with the time, from any
/// connection's thread.
class Log {
  public:
    void line(std::string_view text) {
        const auto now = std::chrono::system_clock::now();
        const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", &utc);
        std::lock_guard lock(mutex_);
        fmt::print(stderr, "{}.{:03d} {}\n", stamp, static_cast<int>(millis.count()), text);
        std::fflush(stderr);
    }

  private:
    std::mutex mutex_;
};

/// Looks at the served directory four times a second: once it has been
/// removed, logs it and stops the server as SIGTERM would (requests in
/// flight get their grace), and removed() turns true for the exit status.
/// Recreating the directory does not bring it back: the server serves the
/// directory it opened, so a supervisor restarts it on the new one.
class RootWatch {
  public:
    RootWatch(Filesystem& root, TcpListener& listener, Log& log)
        : thread_([this, &root, &listener, &log] { watch(root, listener, log); }) {}
    ~RootWatch() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    RootWatch(const RootWatch&) = delete;
    RootWatch& operator=(const RootWatch&) = delete;

    bool removed() const { return removed_.load(); }

  private:
    void watch(Filesystem& root, TcpListener& listener, Log& log) {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, std::chrono::milliseconds(250), [this] { return done_; })) {
            if (!root.removed())
                continue;
            removed_.store(true);
            log.line(fmt::format("the store directory {} was removed: stopping", root.describe()));
            listener.interrupt();
            return;
        }
    }

    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::atomic<bool> removed_{false};
    std::thread thread_;  ///< last: starts once the rest is built
};

std::string strip_brackets(std::string host) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        return host.substr(1, host.size() - 2);
    }
    return host;
}

int run_serve(const ServeOptions& options) {
    const std::filesystem::path root = options.root;
    std::error_code error;
    if (!std::filesystem::is_directory(root, error)) {
        fmt::print(stderr, "ferry: serve: root {} is not an existing directory\n", root.string());
        return exit_usage;
    }

    ServerConfig config;
    config.protocol = options.protocol == "naive" ? ProtocolKind::naive : ProtocolKind::ferry;
    config.max_connections = options.max_connections;
    config.max_connections_per_address = options.max_per_address;
    config.min_rate_bytes = options.min_rate_bytes;
    config.min_rate_window = std::chrono::milliseconds(options.min_rate_window_ms);
    if (options.chunk_bytes) {
        config.naive_chunk_bytes = *options.chunk_bytes;
        config.ferry.chunk_bytes = *options.chunk_bytes;
    }
    config.ferry.max_file_bytes = options.max_file_bytes;
    config.ferry.streamed_put = !options.classic_put_only;
    config.ferry.header_timeout = std::chrono::milliseconds(options.header_timeout_ms);
    config.ferry.idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
    config.shutdown_grace = std::chrono::milliseconds(options.shutdown_grace_ms);
    auto log = std::make_shared<Log>();
    config.log = [log](std::string_view text) { log->line(text); };

    std::unique_ptr<DiskStore> store;
    try {
        store = std::make_unique<DiskStore>(root);
    } catch (const StoreError& e) {
        fmt::print(stderr, "ferry: serve: {}\n", e.what());
        return exit_usage;
    }

    std::unique_ptr<TcpListener> listener;
    const HostPort wanted{strip_brackets(options.host), options.port};
    try {
        listener = std::make_unique<TcpListener>(wanted, SteadyClock::instance());
    } catch (const std::exception& e) {
        fmt::print(stderr, "ferry: serve: {}\n", e.what());  // "listen on <host:port>: why"
        return exit_failed;
    }

    Server server(*listener, *store, config);
    StopSignals signals(*listener, server);
    // Scripts wait for this exact line (and read the port from it).
    fmt::print("listening on {}\n", format_host_port(listener->local_address()));
    std::fflush(stdout);
    log->line(fmt::format(
        "serving {} with {}{}", std::filesystem::absolute(root).string(),
        options.protocol == "naive" ? "the chapter's protocol (naive)" : "ferry/1",
        options.max_file_bytes ? fmt::format(", files up to {} bytes", options.max_file_bytes)
                               : std::string()));
    bool root_removed = false;
    {
        RootWatch watch(store->filesystem(), *listener, *log);
        server.run();
        server.stop();
        root_removed = watch.removed();
    }
    log->line("stopped");
    return root_removed ? exit_failed : exit_ok;
}

/// The options that share the server among its clients: slots, timeouts and
/// the minimum rate.
void add_limit_options(CLI::App& serve_app, ServeOptions& options) {
    CLI::App* serve = &serve_app;
    serve
        ->add_option("--max-connections", options.max_connections,
                     "Clients served at once; when all are taken, a new client takes the slot "
                     "of the one that has waited longest for a request, or gets ERR 503")
        ->check(whole_number_at_least(1))
        ->capture_default_str();
    serve
        ->add_option("--max-per-address", options.max_per_address,
                     "Clients served at once from one address (0 = no cap); more get ERR 503")
        ->capture_default_str();
    serve
        ->add_option("--min-rate-bytes", options.min_rate_bytes,
                     "While a request is served, each this many bytes must move within "
                     "--min-rate-window-ms, or the client gets ERR 408 (0 = no floor)")
        ->capture_default_str();
    serve
        ->add_option("--min-rate-window-ms", options.min_rate_window_ms,
                     "The window of --min-rate-bytes")
        ->check(whole_number_at_least(1))
        ->capture_default_str();
    serve
        ->add_option("--header-timeout-ms", options.header_timeout_ms,
                     "A request line must arrive whole within this (ERR 408)")
        ->check(whole_number_at_least(1))
        ->capture_default_str();
    serve
        ->add_option("--idle-timeout-ms", options.idle_timeout_ms,
                     "Close a connection that moves nothing for this long")
        ->check(whole_number_at_least(1))
        ->capture_default_str();
}

}  // namespace

void add_serve_command(CLI::App& app, ExitStatus& status) {
    auto options = std::make_shared<ServeOptions>();
    CLI::App* serve =
        app.add_subcommand("serve", "Serve a directory to ferry clients until SIGINT or SIGTERM");
    serve->add_option("--root", options->root, "The directory to serve (it must exist)")
        ->capture_default_str();
    serve->add_option("--host", options->host, "Address to listen on: IPv4, IPv6 (::1) or a name")
        ->capture_default_str();
    serve->add_option("--port", options->port, "Port to listen on; 0 lets the kernel choose")
        ->check(CLI::Range(0, 65535))
        ->capture_default_str();
    serve
        ->add_option("--protocol", options->protocol,
                     "ferry (ferry/1) or naive (the chapter's protocol, bugs included: uploads "
                     "are stored as upload-1, upload-2, ...)")
        ->check(CLI::IsMember({"ferry", "naive"}))
        ->capture_default_str();
    serve
        ->add_option("--chunk-size", options->chunk_bytes,
                     "Bytes per recv (naive: the chapter's CHUNK_SIZE, default 1024; ferry: also "
                     "per file write and read, default 65536)")
        ->check(whole_number_at_least(1));
    serve
        ->add_option("--max-bytes", options->max_file_bytes,
                     "Refuse larger uploads with ERR 413 (0 = no limit)")
        ->capture_default_str();
    serve->add_flag("--classic-put-only", options->classic_put_only,
                    "Answer streamed uploads (PUTS) with ERR 400 unknown command, as a server "
                    "from before them does: to test clients' fallback to PUT");
    add_limit_options(*serve, *options);
    serve
        ->add_option("--shutdown-grace-ms", options->shutdown_grace_ms,
                     "On SIGTERM or SIGINT, let transfers in flight finish for up to this long "
                     "(new requests get ERR 503); a second signal, or 0, stops at once")
        ->check(whole_number_at_least(0))
        ->capture_default_str();
    serve->footer(
        "The first line on standard output is exactly 'listening on HOST:PORT' (the port the\n"
        "kernel chose for --port 0); the log goes to standard error.\n"
        "Examples:\n"
        "  ferry serve --root /srv/files\n"
        "  ferry serve --port 0 --root /tmp/x        print the chosen port, then serve\n"
        "  ferry serve --host ::1 --port 7000        IPv6 loopback\n"
        "  ferry serve --protocol naive --chunk-size 1024   the chapter's server\n"
        "SIGTERM or SIGINT stops accepting and lets transfers in flight finish within\n"
        "--shutdown-grace-ms (new requests on open connections get ERR 503, idle ones are\n"
        "closed); a second signal stops at once.\n"
        "Exit codes: 0 stopped by a signal, 1 cannot listen or the served directory was\n"
        "removed, 2 usage error or missing root.");
    serve->callback([options, &status] { status.code = run_serve(*options); });
}

}  // namespace ferry::cli
