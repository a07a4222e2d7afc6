// ferry put, get and dir: the client side of ferry/1 (and, for put, of the
// chapter's protocol) over a real TCP connection.

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/local_file.h"
#include "cli/number_checks.h"
#include "cli/progress.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/naive.h"
#include "ferry/protocol/names.h"
#include "ferry/protocol/printable.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_connection.h"

namespace ferry::cli {

namespace {

constexpr const char* default_server = "127.0.0.1:6789";
/// ferry/1 client chunk: how many bytes one send, recv or file read moves.
constexpr std::size_t ferry_chunk_bytes_default = 256 * 1024;

/// Options every client command shares.
struct ClientOptions {
    std::string server = default_server;
    int timeout_ms = 30000;
    std::string protocol = "ferry";
    std::optional<std::size_t> chunk_bytes;
};

void add_client_options(CLI::App& command, ClientOptions& options) {
    command
        .add_option("--server", options.server,
                    "Server address HOST:PORT (an IPv6 host in brackets: [::1]:6789)")
        ->envname("FERRY_SERVER")
        ->capture_default_str();
    command
        .add_option("--timeout-ms", options.timeout_ms,
                    "Give up when connecting, or any single wait for the server, takes longer")
        ->check(whole_number_at_least(1))
        ->capture_default_str();
}

void add_protocol_option(CLI::App& command, ClientOptions& options, const std::string& help) {
    command.add_option("--protocol", options.protocol, help)
        ->check(CLI::IsMember({"ferry", "naive"}))
        ->capture_default_str();
}

std::string name_rules() {
    return fmt::format(
        "a name is 1 to {} characters of A-Z a-z 0-9 . _ - and does not start "
        "with '.' or '-'",
        name_bytes_max);
}

/// Runs one client operation and turns what it throws into a message naming
/// the operation ("put notes.txt to 127.0.0.1:6789") and an exit code.
int run_reporting(const std::string& operation, const std::function<void()>& body,
                  const std::function<std::string(const ConnectionError&)>& hint = {}) {
    try {
        body();
        return exit_ok;
    } catch (const InputError& e) {
        fmt::print(stderr, "ferry: {} failed: {}\n", operation, e.what());
        return exit_usage;
    } catch (const RemoteError& e) {
        fmt::print(stderr, "ferry: {} failed: {}\n", operation, e.line());
        return exit_failed;
    } catch (const ConnectionError& e) {
        fmt::print(stderr, "ferry: {} failed: {}\n", operation, e.what());
        if (hint) {
            const std::string text = hint(e);
            if (!text.empty())
                fmt::print(stderr, "ferry: {}\n", text);
        }
        return exit_failed;
    } catch (const CorruptedTransfer& e) {
        fmt::print(stderr, "ferry: {} failed: corrupted data: {}\n", operation, e.what());
        return exit_failed;
    } catch (const ProtocolError& e) {
        fmt::print(stderr, "ferry: {} failed: {}\n", operation, e.what());
        return exit_failed;
    } catch (const StoreError& e) {
        fmt::print(stderr, "ferry: {} failed: {}\n", operation, e.what());
        return exit_failed;
    } catch (const std::system_error& e) {
        fmt::print(stderr, "ferry: {} failed: {}\n", operation, e.what());
        return exit_failed;
    } catch (const std::invalid_argument& e) {
        fmt::print(stderr, "ferry: {} failed: {}\n", operation, e.what());
        return exit_usage;
    }
}

/// Parses --server; nullopt (after a message) when it is malformed.
std::optional<HostPort> parse_server(const std::string& command, const std::string& server) {
    try {
        return parse_host_port(server);
    } catch (const std::invalid_argument& e) {
        const char* source =
            std::getenv("FERRY_SERVER") != nullptr && server == std::getenv("FERRY_SERVER")
                ? "FERRY_SERVER"
                : "--server";
        fmt::print(stderr, "ferry: {}: bad {} '{}': {}\n", command, source, server, e.what());
        return std::nullopt;
    }
}

std::unique_ptr<TcpConnection> connect(const HostPort& address, const ClientOptions& options) {
    const auto timeout = std::chrono::milliseconds(options.timeout_ms);
    auto conn = connect_tcp(address, SteadyClock::instance(), timeout);
    conn->set_timeout(timeout);
    return conn;
}

/// Makes a ProgressFn that draws a bar once the total is known.
class ProgressReporter {
  public:
    explicit ProgressReporter(std::string label) : label_(std::move(label)) {}
    ProgressFn callback() {
        return [this](std::uint64_t done_bytes, std::uint64_t total_bytes) {
            if (!bar_)
                bar_ = std::make_unique<ProgressBar>(label_, total_bytes);
            bar_->update(done_bytes, total_bytes);
        };
    }
    void finish() {
        if (bar_)
            bar_->finish();
    }

  private:
    std::string label_;
    std::unique_ptr<ProgressBar> bar_;
};

// ---- put ----

struct PutOptions {
    ClientOptions client;
    std::string file;
    std::optional<std::string> as_name;
};

int run_naive_put(const PutOptions& options, const HostPort& address) {
    const std::size_t chunk_bytes = options.client.chunk_bytes.value_or(naive_chunk_bytes_default);
    const std::string operation =
        fmt::format("put {} to {} (naive)", options.file, format_host_port(address));
    std::uint64_t size_bytes = 0;
    int code = exit_ok;
    const int status = run_reporting(
        operation,
        [&] {
            LocalFileReader reader(options.file);
            size_bytes = reader.size_bytes();
            auto conn = connect(address, options.client);
            const NaiveClientResult result = naive_put(*conn, reader, chunk_bytes);
            conn->close();
            if (result.reply.empty()) {
                fmt::print(stderr, "ferry: {} failed: the server closed without a reply\n",
                           operation);
                code = exit_failed;
                return;
            }
            // The chapter's client prints what the server says it received
            // (escaped: whatever a server sends must not reach the terminal
            // raw).
            const std::string reply = printable_text(result.reply);
            fmt::print("{}\n", reply);
            if (result.reply != std::to_string(result.sent_bytes)) {
                fmt::print(stderr,
                           "ferry: {}: sent {} bytes but the server counted {}: data lost\n",
                           operation, result.sent_bytes, reply);
                code = exit_failed;
            }
        },
        [&](const ConnectionError& e) -> std::string {
            if (e.kind() != ErrorKind::timed_out)
                return {};
            if (size_bytes % chunk_bytes != 0)
                return {};
            return fmt::format(
                "{} bytes is {} multiple of the chunk size {}: the chapter's server keeps "
                "waiting for a short read that never comes, while the client waits for its reply "
                "(a deadlock by design)",
                size_bytes, size_bytes == 0 ? "0, a" : "a", chunk_bytes);
        });
    return status != exit_ok ? status : code;
}

TransferResult put_local_file(const PutOptions& options, const HostPort& address,
                              const std::string& name);
TransferResult put_stdin(const PutOptions& options, const HostPort& address,
                         const std::string& name);

int run_put(const PutOptions& options) {
    const auto address = parse_server("put", options.client.server);
    if (!address)
        return exit_usage;
    if (options.client.protocol == "naive") {
        if (options.as_name) {
            fmt::print(stderr,
                       "ferry: put: --as needs ferry/1; the chapter's protocol sends no name "
                       "(the server picks upload-1, upload-2, ...)\n");
            return exit_usage;
        }
        if (options.file == "-") {
            fmt::print(stderr,
                       "ferry: put -: the chapter's protocol (naive) uploads files only; use "
                       "ferry/1 (the default) to upload standard input\n");
            return exit_usage;
        }
        return run_naive_put(options, *address);
    }

    const bool from_stdin = options.file == "-";
    if (from_stdin && !options.as_name) {
        fmt::print(stderr,
                   "ferry: put -: standard input has no name; give it one with --as NAME\n");
        return exit_usage;
    }
    const std::string name =
        options.as_name.value_or(std::filesystem::path(options.file).filename().string());
    if (!is_valid_name(name)) {
        fmt::print(stderr, "ferry: put {}: '{}' is not a name the server accepts: {}{}\n",
                   options.file, name, name_rules(),
                   options.as_name ? "" : "; choose another with --as NAME");
        return exit_usage;
    }
    const std::string what = from_stdin ? "standard input" : options.file;
    const std::string operation = fmt::format("put {} to {}", what, format_host_port(*address));
    return run_reporting(operation, [&] {
        const TransferResult result = from_stdin ? put_stdin(options, *address, name)
                                                 : put_local_file(options, *address, name);
        fmt::print("put {} as {}: {} bytes, digest {}\n", what, name, result.size_bytes,
                   result.digest);
    });
}

std::size_t put_chunk_bytes(const PutOptions& options) {
    return options.client.chunk_bytes.value_or(ferry_chunk_bytes_default);
}

/// The transfer, or the server's refusal thrown as a RemoteError.
TransferResult transferred(PutOutcome outcome) {
    if (const auto* refusal = std::get_if<Refusal>(&outcome))
        throw RemoteError(refusal->code, refusal->line);
    return std::move(std::get<TransferResult>(outcome));
}

/// A file: streamed (read once), or with PUT on a fresh connection when the
/// server is from before streamed uploads.
TransferResult put_local_file(const PutOptions& options, const HostPort& address,
                              const std::string& name) {
    LocalFileReader reader(options.file);
    auto conn = connect(address, options.client);
    FerryClient client(*conn, put_chunk_bytes(options));
    std::unique_ptr<TcpConnection> fallback_conn;
    std::unique_ptr<FerryClient> fallback;
    ProgressReporter progress("put " + name);
    PutOutcome outcome = put_file(
        client, name, reader,
        [&]() -> FerryClient& {
            conn->close();
            fallback_conn = connect(address, options.client);
            fallback = std::make_unique<FerryClient>(*fallback_conn, put_chunk_bytes(options));
            return *fallback;
        },
        progress.callback());
    progress.finish();
    (fallback_conn ? fallback_conn : conn)->close();
    return transferred(std::move(outcome));
}

/// Standard input, streamed: there is no going back for a second pass, so
/// a server from before streamed uploads is the end of it.
TransferResult put_stdin(const PutOptions& options, const HostPort& address,
                         const std::string& name) {
    auto conn = connect(address, options.client);
    FerryClient client(*conn, put_chunk_bytes(options));
    FdSource source(STDIN_FILENO, "standard input");
    PutOutcome outcome = client.try_put_streamed(name, source);
    conn->close();
    if (const auto* refusal = std::get_if<Refusal>(&outcome); refusal && refusal->code == 400) {
        throw RemoteError(refusal->code,
                          refusal->line +
                              " (the server takes no streamed upload: one from before PUTS "
                              "answers so; ferry put - needs a newer server, or save the input "
                              "to a file and put that)");
    }
    return transferred(std::move(outcome));
}

// ---- get ----

struct GetOptions {
    ClientOptions client;
    std::string name;
    std::string output;
};

/// Where ferry get NAME -o OUTPUT writes: OUTPUT (NAME when empty), NAME
/// inside it when it is a directory, resolved by resolve_download_target;
/// standard output for "-".
DownloadTarget download_target(const GetOptions& options) {
    if (options.output == "-")
        return DownloadTarget{"-", true};
    std::filesystem::path target = options.output.empty() ? options.name : options.output;
    std::error_code error;
    if (std::filesystem::is_directory(target, error))
        target /= options.name;
    return resolve_download_target(target);
}

/// Downloads name straight into target: standard output, a device, a FIFO.
void get_through(FerryClient& client, Connection& conn, const std::string& name,
                 const DownloadTarget& target, ProgressReporter& progress) {
    const bool to_stdout = target.path == "-";
    struct ClosedAtEnd {
        int fd;
        bool owned;
        ~ClosedAtEnd() {
            if (owned)
                ::close(fd);
        }
    } const out{to_stdout ? STDOUT_FILENO : open_write_through(target.path), !to_stdout};
    FdSink sink(out.fd);
    const TransferResult result = client.get(name, sink, progress.callback());
    progress.finish();
    conn.close();
    if (!to_stdout) {  // to standard error: the target may be standard output
        fmt::print(stderr, "get {} to {}: {} bytes, digest {}\n", name, target.path.string(),
                   result.size_bytes, result.digest);
    }
}

int run_get(const GetOptions& options) {
    if (options.client.protocol == "naive") {
        fmt::print(stderr,
                   "ferry: get: the chapter's protocol (naive) can only upload: its client "
                   "sends bytes and reads back a count, with no way to ask for a file\n");
        return exit_usage;
    }
    const auto address = parse_server("get", options.client.server);
    if (!address)
        return exit_usage;
    if (!is_valid_name(options.name)) {
        fmt::print(stderr, "ferry: get: '{}' is not a name the server accepts: {}\n", options.name,
                   name_rules());
        return exit_usage;
    }
    const DownloadTarget target = download_target(options);
    const std::size_t chunk_bytes = options.client.chunk_bytes.value_or(ferry_chunk_bytes_default);
    const std::string operation =
        fmt::format("get {} from {}", options.name, format_host_port(*address));
    // Interrupted, a download removes its part file; a killed one's is
    // reclaimed here, by the next download of the same target.
    std::unique_ptr<RemoveOnInterrupt> interrupt;
    if (!target.write_through) {
        interrupt = std::make_unique<RemoveOnInterrupt>();
        if (const std::size_t reclaimed = reclaim_abandoned_parts(target.path)) {
            fmt::print(stderr, "ferry: removed {} abandoned partial download{} of {}\n", reclaimed,
                       reclaimed == 1 ? "" : "s", target.path.string());
        }
    }
    return run_reporting(operation, [&] {
        auto conn = connect(*address, options.client);
        FerryClient client(*conn, chunk_bytes);
        ProgressReporter progress("get " + options.name);
        if (target.write_through) {
            get_through(client, *conn, options.name, target, progress);
            return;
        }
        AtomicFileSink sink(target.path, interrupt.get());
        const TransferResult result = client.get(options.name, sink, progress.callback());
        progress.finish();
        conn->close();
        sink.commit();
        fmt::print("get {} to {}: {} bytes, digest {}\n", options.name, target.path.string(),
                   result.size_bytes, result.digest);
    });
}

// ---- dir ----

int run_dir(const ClientOptions& options) {
    if (options.protocol == "naive") {
        fmt::print(stderr,
                   "ferry: dir: the chapter's protocol (naive) can only upload: it has no "
                   "request for a listing\n");
        return exit_usage;
    }
    const auto address = parse_server("dir", options.server);
    if (!address)
        return exit_usage;
    return run_reporting(fmt::format("dir of {}", format_host_port(*address)), [&] {
        auto conn = connect(*address, options);
        FerryClient client(*conn);
        const std::vector<FileInfo> files = client.dir();
        conn->close();
        // Sizes aligned for a reader at a terminal; one space for a script
        // (ferry dir | cut -d' ' -f2).
        std::size_t width = 1;
        if (::isatty(STDOUT_FILENO) == 1) {
            for (const FileInfo& file : files)
                width = std::max(width, std::to_string(file.size_bytes).size());
        }
        for (const FileInfo& file : files) {
            // The client takes only valid names from a listing; escaped all
            // the same, so no rule change can let a server's bytes through.
            fmt::print("{:>{}} {}\n", file.size_bytes, width, printable_text(file.name));
        }
    });
}

}  // namespace

namespace {

void add_put_command(CLI::App& app, ExitStatus& status) {
    // Owned by the command's callback, which runs during app.parse().
    auto put = std::make_shared<PutOptions>();
    CLI::App* put_command = app.add_subcommand("put", "Upload a file to a ferry server");
    put_command
        ->add_option("file", put->file,
                     "The local file to upload, or - for standard input (with --as NAME)")
        ->required();
    put_command->add_option("--as", put->as_name,
                            "Store it under this name (default: the file's base name)");
    add_client_options(*put_command, put->client);
    add_protocol_option(*put_command, put->client,
                        "ferry (ferry/1) or naive (the chapter's protocol: the server stores "
                        "upload-N and replies with the byte count)");
    put_command
        ->add_option("--chunk-size", put->client.chunk_bytes,
                     "Bytes per send and file read (naive: the chapter's CHUNK_SIZE, default "
                     "1024; ferry: default 262144)")
        ->check(whole_number_at_least(1));
    put_command->footer(
        "Examples:\n"
        "  ferry put notes.txt                       store notes.txt on 127.0.0.1:6789\n"
        "  ferry put build/out.bin --as release.bin  store it under another name\n"
        "  tar c dir | ferry put - --as dir.tar      upload standard input, read once\n"
        "  FERRY_SERVER=[::1]:7000 ferry put a.txt   another server (or --server)\n"
        "  ferry put notes.txt --protocol naive      the chapter's protocol; prints the "
        "server's count\n"
        "A file is read once and streamed (PUTS, its digest after the bytes); a server from\n"
        "before streamed uploads answers ERR 400, and the file is then sent again with PUT on\n"
        "a fresh connection (read twice: once for its digest, once to send). Standard input\n"
        "cannot be read twice: against such a server, put - fails.\n"
        "Exit codes: 0 stored, 1 server error or connection failure, 2 usage error, missing "
        "file or bad name.");
    put_command->callback([put, &status] { status.code = run_put(*put); });
}

}  // namespace

void add_client_commands(CLI::App& app, ExitStatus& status) {
    // Owned by the commands' callbacks, which run during app.parse().
    auto get = std::make_shared<GetOptions>();
    auto dir = std::make_shared<ClientOptions>();

    add_put_command(app, status);

    CLI::App* get_command = app.add_subcommand("get", "Download a file from a ferry server");
    get_command->add_option("name", get->name, "The name of the file on the server")->required();
    get_command->add_option("-o,--output", get->output,
                            "Where to write it: a file, a directory, or - for standard output "
                            "(default: NAME in the current directory)");
    add_client_options(*get_command, get->client);
    add_protocol_option(*get_command, get->client, "ferry (naive cannot download)");
    get_command
        ->add_option("--chunk-size", get->client.chunk_bytes, "Bytes per recv and file write")
        ->check(whole_number_at_least(1));
    get_command->footer(
        "The file is written beside its target under a temporary name (.NAME.ferry-part-XXXXXX)\n"
        "and renamed into place only once its digest checks out: a failed or interrupted\n"
        "download leaves nothing and never replaces an existing file. A download that\n"
        "succeeds replaces an existing file of that name, keeping its permissions; through a\n"
        "symbolic link, it replaces the file the link names. A device, FIFO or socket (such\n"
        "as /dev/null) is written into as the bytes arrive. Part files of a killed\n"
        "download (kill -9) are removed by the next get of the same target.\n"
        "Examples:\n"
        "  ferry get notes.txt                 write ./notes.txt\n"
        "  ferry get notes.txt -o /tmp/n.txt   write /tmp/n.txt\n"
        "  ferry get notes.txt -o - | less     write to standard output\n"
        "Exit codes: 0 downloaded, 1 server error (ERR 404: no such file), corrupted data or\n"
        "connection failure, 2 usage error or bad name, 128 + the signal when interrupted\n"
        "(130 SIGINT, 143 SIGTERM, 129 SIGHUP).");
    get_command->callback([get, &status] { status.code = run_get(*get); });

    CLI::App* dir_command =
        app.add_subcommand("dir", "List the files on a ferry server: <size> <name> per line");
    add_client_options(*dir_command, *dir);
    add_protocol_option(*dir_command, *dir, "ferry (naive cannot list)");
    dir_command->footer(
        "Examples:\n"
        "  ferry dir\n"
        "  ferry dir --server 10.0.0.5:6789\n"
        "Exit codes: 0 listed, 1 server error or connection failure, 2 usage error.");
    dir_command->callback([dir, &status] { status.code = run_dir(*dir); });
}

}  // namespace ferry::cli
