// The real server end to end: a Server on an ephemeral loopback port, a
// DiskStore in a temporary directory, and FerryClient (or raw sockets, or the
// chapter's client) on the other side.

#include "ferry/real/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <future>
#include <iostream>
#include <latch>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include <fmt/ranges.h>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/naive.h"
#include "ferry/real/disk_store.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_connection.h"
#include "ferry/real/tcp_listener.h"
#include "real_test_support.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::BytesReader;
using testing::BytesSink;
using ::testing::ElementsAre;
using testing::eventually;
using testing::has_temp_file;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::random_bytes;
using testing::read_file;
using testing::recv_to_end;
using ::testing::StartsWith;
using testing::stored_names;
using testing::TempDir;
using testing::to_bytes;
using namespace std::chrono_literals;

/// The server's chunk size in these tests: C.
constexpr std::size_t chunk = 1024;

ServerConfig test_config() {
    ServerConfig config;
    config.ferry.chunk_bytes = chunk;
    config.ferry.header_timeout = 200ms;
    config.ferry.idle_timeout = 20s;
    config.ferry.linger_timeout = 200ms;
    config.naive_chunk_bytes = chunk;
    return config;
}

/// A running server on 127.0.0.1:0 serving root/ inside a temporary parent,
/// so tests can check that nothing appears next to the root either.
class RunningServer {
  public:
    explicit RunningServer(ServerConfig config = test_config())
        : root_(make_root(parent_.path())),
          store_(root_),
          listener_(HostPort{"127.0.0.1", 0}, SteadyClock::instance()) {
        config.log = [this](std::string_view line) {
            std::lock_guard lock(log_mutex_);
            log_.emplace_back(line);
        };
        server_ = std::make_unique<Server>(listener_, store_, std::move(config));
        runner_ = std::async(std::launch::async, [this] { server_->run(); });
    }
    ~RunningServer() { stop(); }

    void stop() {
        if (!server_)
            return;
        server_->stop();
        runner_.get();
        if (::testing::Test::HasFailure()) {
            for (const auto& line : log())
                std::cerr << "server log: " << line << "\n";
        }
        server_.reset();
    }

    std::unique_ptr<TcpConnection> connect() {
        auto conn = connect_tcp(listener_.local_address(), SteadyClock::instance(), 10s);
        conn->set_timeout(testing::patience);
        return conn;
    }

    Server& server() { return *server_; }
    const fs::path& root() const { return root_; }
    const fs::path& parent() const { return parent_.path(); }
    std::future<void>& runner() { return runner_; }

    bool wait_until_idle() {
        return eventually([&] { return server_->active_connections() == 0; });
    }

    std::vector<std::string> log() {
        std::lock_guard lock(log_mutex_);
        return log_;
    }

  private:
    static fs::path make_root(const fs::path& parent) {
        fs::create_directory(parent / "root");
        return parent / "root";
    }

    TempDir parent_;
    fs::path root_;
    DiskStore store_;
    TcpListener listener_;
    std::mutex log_mutex_;
    std::vector<std::string> log_;
    std::unique_ptr<Server> server_;
    std::future<void> runner_;
};

/// Sends one request line and reads one reply line.
std::string exchange_line(Connection& conn, std::string_view request) {
    send_all(conn, request);
    return recv_line(conn, 4096).value_or("(end of stream)");
}

int remote_error_code(const std::function<void()>& call) {
    try {
        call();
    } catch (const RemoteError& e) {
        return e.code();
    }
    return 0;
}

TEST(Server, EverySizeRoundTripsExactly) {
    RunningServer running;
    const std::vector<std::size_t> sizes = {
        0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 7, 10 * 1024 * 1024};
    auto conn = running.connect();
    FerryClient client(*conn, chunk);
    for (const std::size_t size : sizes) {
        SCOPED_TRACE("size " + std::to_string(size));
        const std::string name = "file-" + std::to_string(size);
        const Bytes bytes = random_bytes(size, size + 1);
        const TransferResult put = client.put(name, BytesReader(bytes));
        EXPECT_EQ(put.size_bytes, size);
        EXPECT_EQ(put.digest, digest_hex(bytes));
        // Acknowledged means on disk, whole.
        EXPECT_TRUE(read_file(running.root() / name) == bytes);

        BytesSink sink;
        const TransferResult got = client.get(name, sink);
        EXPECT_EQ(got.size_bytes, size);
        EXPECT_TRUE(sink.bytes() == bytes);
    }
    EXPECT_FALSE(has_temp_file(running.root()));
}

TEST(Server, StreamedUploadsAreStoredExactlyAndFallBackToPutOnAnOldServer) {
    for (const bool old_server : {false, true}) {
        ServerConfig config = test_config();
        config.ferry.streamed_put = !old_server;
        RunningServer running(config);
        for (const std::size_t size :
             {std::size_t{0}, chunk + 1, std::size_t{6 * 1024 * 1024 + 5}}) {
            SCOPED_TRACE(fmt::format("size {}, old server {}", size, old_server));
            const std::string name = "s-" + std::to_string(size);
            const Bytes bytes = random_bytes(size, size + 9);
            auto conn = running.connect();
            FerryClient client(*conn, chunk);
            decltype(running.connect()) fresh;
            std::unique_ptr<FerryClient> again;
            int reconnects = 0;
            const PutOutcome outcome =
                put_file(client, name, BytesReader(bytes), [&]() -> FerryClient& {
                    ++reconnects;
                    fresh = running.connect();
                    again = std::make_unique<FerryClient>(*fresh, chunk);
                    return *again;
                });
            ASSERT_TRUE(std::holds_alternative<TransferResult>(outcome));
            EXPECT_EQ(reconnects, old_server ? 1 : 0);
            EXPECT_TRUE(read_file(running.root() / name) == bytes);
        }
        EXPECT_FALSE(has_temp_file(running.root()));
    }
}

TEST(Server, EachRequestCanUseItsOwnConnection) {
    RunningServer running;
    const Bytes bytes = random_bytes(5000, 7);
    {
        auto conn = running.connect();
        FerryClient(*conn).put("one", BytesReader(bytes));
    }
    auto conn = running.connect();
    BytesSink sink;
    FerryClient(*conn).get("one", sink);
    EXPECT_EQ(sink.bytes(), bytes);
}

TEST(Server, DirListsFilesSortedByNameWithSizes) {
    RunningServer running;
    auto conn = running.connect();
    FerryClient client(*conn, chunk);
    EXPECT_THAT(client.dir(), IsEmpty());
    client.put("beta", BytesReader(random_bytes(20, 1)));
    client.put("Alpha", BytesReader(random_bytes(3000, 2)));
    client.put("alpha", BytesReader({}));
    client.put("gamma.txt", BytesReader(random_bytes(1, 3)));
    EXPECT_THAT(client.dir(), ElementsAre(FileInfo{"Alpha", 3000}, FileInfo{"alpha", 0},
                                          FileInfo{"beta", 20}, FileInfo{"gamma.txt", 1}));
}

TEST(Server, DirDoesNotShowSymlinksPlantedInTheRoot) {
    RunningServer running;
    fs::create_symlink("/etc/passwd", running.root() / "evil");
    auto conn = running.connect();
    FerryClient client(*conn, chunk);
    EXPECT_THAT(client.dir(), IsEmpty());
    BytesSink sink;
    EXPECT_EQ(remote_error_code([&] { client.get("evil", sink); }), 404);
    EXPECT_THAT(sink.bytes(), IsEmpty());
}

TEST(Server, GetOfAMissingFileIs404AndTheConnectionGoesOn) {
    RunningServer running;
    auto conn = running.connect();
    FerryClient client(*conn, chunk);
    BytesSink sink;
    EXPECT_EQ(remote_error_code([&] { client.get("missing", sink); }), 404);
    EXPECT_THAT(client.dir(), IsEmpty());
}

TEST(Server, EveryBadNameIsRefusedAndNothingIsWrittenAnywhere) {
    RunningServer running;
    testing::write_file(running.root() / "existing", to_bytes("keep me"));
    const auto before = testing::snapshot(running.parent());
    struct stat passwd_before {};
    const bool have_passwd = ::stat("/etc/passwd", &passwd_before) == 0;

    // Names that fit in one field of a request line: ERR 403.
    const std::vector<std::string> refused_names = {"..",
                                                    "../x",
                                                    "/etc/passwd",
                                                    "a/b",
                                                    ".hidden",
                                                    std::string(256, 'a'),
                                                    std::string("nul\0byte", 8),
                                                    "caf\xc3\xa9",
                                                    ".",
                                                    "..%2fx",
                                                    "a\\b"};
    for (const std::string& name : refused_names) {
        SCOPED_TRACE("name '" + name + "'");
        auto conn = running.connect();
        FerryClient client(*conn, chunk);
        EXPECT_EQ(remote_error_code([&] { client.put(name, BytesReader(to_bytes("payload"))); }),
                  403);
        auto get_conn = running.connect();
        BytesSink sink;
        EXPECT_EQ(remote_error_code([&] { FerryClient(*get_conn).get(name, sink); }), 403);
    }

    // An empty name and one with a space cannot be written as one field: the
    // request line itself is malformed (ERR 400). Refused all the same.
    for (const std::string line : {"PUT  7\n", "PUT has space 7\n", "GET \n", "GET has space\n"}) {
        SCOPED_TRACE("request " + line);
        auto conn = running.connect();
        const std::string reply = exchange_line(*conn, line);
        EXPECT_THAT(reply, StartsWith("ERR 4"));
    }

    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_EQ(testing::snapshot(running.parent()), before);
    if (have_passwd) {
        struct stat passwd_after {};
        ASSERT_EQ(::stat("/etc/passwd", &passwd_after), 0);
        EXPECT_EQ(passwd_after.st_size, passwd_before.st_size);
        EXPECT_EQ(passwd_after.st_mtim.tv_sec, passwd_before.st_mtim.tv_sec);
        EXPECT_EQ(passwd_after.st_mtim.tv_nsec, passwd_before.st_mtim.tv_nsec);
    }
}

TEST(Server, PutWithAWrongDigestIs422AndStoresNothing) {
    RunningServer running;
    auto conn = running.connect();
    const Bytes bytes = random_bytes(3 * chunk + 7, 5);
    const std::string wrong = digest_hex(to_bytes("something else"));
    send_all(*conn, "PUT wrong " + std::to_string(bytes.size()) + " " + wrong + "\n");
    send_all(*conn, bytes);
    const auto reply = recv_line(*conn, 4096);
    ASSERT_TRUE(reply);
    EXPECT_THAT(*reply, StartsWith("ERR 422"));
    EXPECT_THAT(stored_names(running.root()), IsEmpty());
    // The connection goes on.
    FerryClient client(*conn, chunk);
    EXPECT_THAT(client.dir(), IsEmpty());
}

TEST(Server, PutOverADirectoryIsRefusedBeforeItsBodyIsRead) {
    RunningServer running;
    fs::create_directory(running.root() / "subdir");
    auto conn = running.connect();
    // A body the server would take a while to read; none of it is sent.
    EXPECT_EQ(exchange_line(*conn, "PUT subdir 1000000000\n"),
              "ERR 403 name not allowed: 'subdir' is a directory on the server");
    EXPECT_EQ(recv_to_end(*conn), Bytes{});  // and the connection ends
    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_THAT(stored_names(running.root()), ElementsAre("subdir"));
}

/// Starts an upload by hand and waits until the server has begun writing it.
std::unique_ptr<TcpConnection> start_upload(RunningServer& running, const std::string& name) {
    auto conn = running.connect();
    const Bytes bytes = random_bytes(100 * chunk, 9);
    send_all(*conn, "PUT " + name + " " + std::to_string(bytes.size() * 2) + " " +
                        digest_hex(bytes) + "\n");
    send_all(*conn, bytes);
    EXPECT_TRUE(eventually([&] { return has_temp_file(running.root()); }))
        << "the server never started writing";
    return conn;
}

TEST(Server, ClientThatDisconnectsMidUploadLeavesNothing) {
    RunningServer running;
    auto conn = start_upload(running, "half");
    conn->close();
    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_THAT(stored_names(running.root()), IsEmpty());
}

TEST(Server, ClientThatResetsMidUploadLeavesNothing) {
    RunningServer running;
    auto conn = start_upload(running, "half");
    conn->reset();
    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_THAT(stored_names(running.root()), IsEmpty());
}

TEST(Server, ThirtyTwoClientsAtOnceAllSucceed) {
    RunningServer running;
    constexpr int clients = 32;
    std::latch start(clients);
    std::vector<std::future<std::string>> results;
    for (int i = 0; i < clients; ++i) {
        results.push_back(std::async(std::launch::async, [&, i]() -> std::string {
            try {
                const Bytes bytes = random_bytes(static_cast<std::size_t>(i) * 9973 + 11, 1000 + i);
                const std::string name = "client-" + std::to_string(i);
                auto conn = running.connect();
                start.arrive_and_wait();
                FerryClient client(*conn, chunk);
                client.put(name, BytesReader(bytes));
                BytesSink sink;
                client.get(name, sink);
                if (sink.bytes() != bytes)
                    return name + ": GET returned other bytes";
                return "";
            } catch (const std::exception& e) {
                return std::string("client ") + std::to_string(i) + ": " + e.what();
            }
        }));
    }
    for (auto& result : results)
        EXPECT_EQ(result.get(), "");
    auto conn = running.connect();
    EXPECT_EQ(FerryClient(*conn).dir().size(), static_cast<std::size_t>(clients));
}

TEST(Server, ServesTwoHundredFiftySixClientsAtOnce) {
    ServerConfig config = test_config();
    config.max_connections = 256;
    config.max_connections_per_address = 0;  // all come from 127.0.0.1
    RunningServer running(config);
    std::vector<std::unique_ptr<TcpConnection>> conns;
    for (int i = 0; i < 256; ++i)
        conns.push_back(running.connect());
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 256; }))
        << running.server().active_connections() << " active";
    for (auto& conn : conns)
        send_all(*conn, "DIR\n");
    for (auto& conn : conns)
        EXPECT_EQ(recv_line(*conn, 100), "OK 0");
}

/// Opens a connection that is serving a request: a PUT whose body has
/// begun and stays unfinished, so the server cannot end it to make room.
/// A connection the server is serving an upload on: its request line read
/// (so the server will not end it to make room), its body still to come.
/// Call with no other connection waiting for a request.
std::unique_ptr<TcpConnection> busy_upload(RunningServer& running) {
    auto conn = running.connect();
    EXPECT_TRUE(eventually([&] { return running.server().waiting_for_requests() == 1; }));
    send_all(*conn, "PUT held 1000000\n0123456789");
    EXPECT_TRUE(eventually([&] { return running.server().waiting_for_requests() == 0; }));
    return conn;
}

TEST(Server, ClientPastTheConnectionLimitGetsErr503) {
    ServerConfig config = test_config();
    config.max_connections = 2;
    RunningServer running(config);
    auto first = busy_upload(running);
    auto second = busy_upload(running);
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 2; }));

    auto third = running.connect();
    const auto line = recv_line(*third, 4096);
    ASSERT_TRUE(line);
    EXPECT_THAT(*line, StartsWith("ERR 503 too many connections"));
    EXPECT_EQ(running.server().active_connections(), 2u);

    // Once one leaves, a new client is served.
    first->close();
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 1; }));
    auto fourth = running.connect();
    EXPECT_THAT(FerryClient(*fourth).dir(), IsEmpty());
}

TEST(Server, ClientPastTheLimitThatIsMidUploadStillReadsErr503) {
    ServerConfig config = test_config();
    config.max_connections = 1;
    RunningServer running(config);
    auto first = busy_upload(running);
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 1; }));
    for (int i = 0; i < 20; ++i) {
        auto conn = running.connect();
        FerryClient client(*conn, chunk);
        EXPECT_EQ(remote_error_code(
                      [&] { client.put("refused", BytesReader(random_bytes(1024 * 1024, 3))); }),
                  503)
            << "attempt " << i;
    }
    first->close();
    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_THAT(stored_names(running.root()), IsEmpty());
}

TEST(Server, ANewClientTakesTheSlotOfTheOneWaitingLongestForARequest) {
    ServerConfig config = test_config();
    config.max_connections = 2;
    RunningServer running(config);
    auto oldest = running.connect();
    ASSERT_TRUE(eventually([&] { return running.server().waiting_for_requests() == 1; }));
    auto newer = running.connect();
    send_all(*newer, "PUT half-a-line");  // waiting for a request still
    ASSERT_TRUE(eventually([&] { return running.server().waiting_for_requests() == 2; }));

    auto fresh = running.connect();
    EXPECT_THAT(FerryClient(*fresh).dir(), IsEmpty());
    EXPECT_THAT(recv_to_end(*oldest), IsEmpty());  // ended, without a word
    EXPECT_EQ(running.server().connections_ended_for_room(), 1u);
    send_all(*newer, "\n");
    EXPECT_THAT(recv_line(*newer, 4096).value_or(""), StartsWith("ERR 400"));
}

TEST(Server, AnAddressPastItsCapGetsErr503NamingIt) {
    ServerConfig config = test_config();
    config.max_connections_per_address = 1;
    RunningServer running(config);
    auto first = busy_upload(running);
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 1; }));
    auto second = running.connect();
    EXPECT_THAT(recv_line(*second, 4096).value_or(""),
                StartsWith("ERR 503 too many connections from 127.0.0.1 "));
}

TEST(Server, AnUploadSlowerThanTheMinimumRateGetsErr408) {
    ServerConfig config = test_config();
    config.min_rate_bytes = 1000;
    config.min_rate_window = 300ms;
    RunningServer running(config);
    auto conn = running.connect();
    send_all(*conn, "PUT dripping 100000\n");
    const auto started = SteadyClock::instance().now();
    std::optional<std::string> line;
    std::jthread dripper([&conn](std::stop_token stop) {
        try {
            while (!stop.stop_requested()) {  // 100 bytes a second, under the floor
                send_all(*conn, std::string(10, 'x'));
                std::this_thread::sleep_for(100ms);
            }
        } catch (const ConnectionError&) {
            // The server gave up on us: what the test expects.
        }
    });
    line = recv_line(*conn, 4096);
    dripper.request_stop();
    const auto waited = SteadyClock::instance().now() - started;
    EXPECT_THAT(line.value_or(""), StartsWith("ERR 408"));
    EXPECT_LT(waited, 5s);
    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_THAT(stored_names(running.root()), IsEmpty());
    EXPECT_THAT(fmt::format("{}", fmt::join(running.log(), "\n")), HasSubstr("too slow"));
}

TEST(Server, AnUploadAboveTheMinimumRateIsServed) {
    ServerConfig config = test_config();
    config.min_rate_bytes = 1000;
    config.min_rate_window = 300ms;
    RunningServer running(config);
    auto conn = running.connect();
    const Bytes bytes = random_bytes(5000, 8);
    send_all(*conn, fmt::format("PUT steady {}\n", bytes.size()));
    for (std::size_t at = 0; at < bytes.size(); at += 1000) {  // 10 kB/s, over the floor
        send_all(*conn, std::span(bytes).subspan(at, 1000));
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_THAT(recv_line(*conn, 4096).value_or(""), StartsWith("OK 5000"));
}

TEST(Server, NaiveClientPastTheConnectionLimitIsJustClosed) {
    ServerConfig config = test_config();
    config.protocol = ProtocolKind::naive;
    config.max_connections = 1;
    RunningServer running(config);
    auto first = running.connect();
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 1; }));
    auto second = running.connect();
    EXPECT_THAT(testing::recv_to_end(*second), IsEmpty());
}

TEST(Server, HalfAHeaderLineThenSilenceGetsErr408) {
    RunningServer running;
    auto conn = running.connect();
    const auto started = SteadyClock::instance().now();
    send_all(*conn, "PUT stalled");
    const auto line = recv_line(*conn, 4096);
    const auto waited = SteadyClock::instance().now() - started;
    ASSERT_TRUE(line);
    EXPECT_THAT(*line, StartsWith("ERR 408"));
    EXPECT_GE(waited, 200ms);
    EXPECT_LT(waited, 20s);  // well before the idle timeout
    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_THAT(stored_names(running.root()), IsEmpty());
}

TEST(Server, NaiveProtocolStoresAnUploadAndRepliesWithTheCount) {
    ServerConfig config = test_config();
    config.protocol = ProtocolKind::naive;
    RunningServer running(config);
    const Bytes bytes = random_bytes(chunk + 1, 77);
    auto conn = running.connect();
    const NaiveClientResult result = naive_put(*conn, BytesReader(bytes), chunk);
    EXPECT_EQ(result.sent_bytes, bytes.size());
    EXPECT_EQ(result.reply, std::to_string(chunk + 1));
    EXPECT_EQ(read_file(running.root() / "upload-1"), bytes);

    auto again = running.connect();
    EXPECT_EQ(naive_put(*again, BytesReader(to_bytes("short")), chunk).reply, "5");
    EXPECT_EQ(read_file(running.root() / "upload-2"), to_bytes("short"));
}

TEST(Server, StopWhileClientsAreConnectedReturnsPromptly) {
    RunningServer running;
    std::vector<std::unique_ptr<TcpConnection>> idle;
    for (int i = 0; i < 8; ++i)
        idle.push_back(running.connect());
    auto uploading = start_upload(running, "interrupted");
    auto stalled = running.connect();
    send_all(*stalled, "GET ");  // half a header line
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 10; }));

    const auto started = SteadyClock::instance().now();
    running.server().stop();
    const auto took = SteadyClock::instance().now() - started;
    EXPECT_LT(took, 5s);
    EXPECT_EQ(running.server().active_connections(), 0u);
    EXPECT_EQ(running.runner().wait_for(testing::patience), std::future_status::ready);
    EXPECT_THAT(stored_names(running.root()), IsEmpty());
    // Every client sees its connection end.
    for (auto& conn : idle) {
        const auto error = testing::connection_error([&] { testing::recv_to_end(*conn); });
        EXPECT_TRUE(!error || error->kind() == ErrorKind::reset);
    }
    running.stop();
}

TEST(Server, StopFromAnotherThreadIsSafeToRepeat) {
    RunningServer running;
    auto a = std::async(std::launch::async, [&] { running.server().stop(); });
    auto b = std::async(std::launch::async, [&] { running.server().stop(); });
    EXPECT_EQ(a.wait_for(testing::patience), std::future_status::ready);
    EXPECT_EQ(b.wait_for(testing::patience), std::future_status::ready);
    running.server().stop();
}

TEST(Server, LogsOneLinePerConnectionEvent) {
    RunningServer running;
    {
        auto conn = running.connect();
        FerryClient(*conn).dir();
    }
    ASSERT_TRUE(eventually([&] {
        for (const auto& line : running.log()) {
            if (line.find("closed") != std::string::npos)
                return true;
        }
        return false;
    }));
    const auto log = running.log();
    EXPECT_THAT(log.front(), HasSubstr("conn 1 127.0.0.1:"));
    EXPECT_THAT(log.front(), HasSubstr("accepted"));
    bool logged_dir = false;
    for (const auto& line : log)
        logged_dir = logged_dir || line.find("DIR") != std::string::npos;
    EXPECT_TRUE(logged_dir);
}

/// Passes every call through to a TcpConnection, counting bytes received.
class CountingConnection : public Connection {
  public:
    CountingConnection(std::unique_ptr<TcpConnection> inner, std::atomic<std::uint64_t>& received)
        : Connection(inner->clock()), inner_(std::move(inner)), received_(received) {}
    std::size_t do_send(std::span<const std::byte> bytes) override {
        return inner_->send(bytes, send_site());
    }
    std::size_t do_recv(std::span<std::byte> buffer) override {
        const std::size_t got = inner_->recv(buffer, recv_site());
        received_ += got;
        return got;
    }
    void shutdown_send() override { inner_->shutdown_send(); }
    void close() override { inner_->close(); }
    std::string peer_name() const override { return inner_->peer_name(); }

  private:
    std::unique_ptr<TcpConnection> inner_;
    std::atomic<std::uint64_t>& received_;
};

TEST(Server, WrappedConnectionsAreServedAndStillStopped) {
    std::atomic<std::uint64_t> received{0};
    ServerConfig config = test_config();
    config.wrap_connection =
        [&](std::unique_ptr<TcpConnection> conn) -> std::unique_ptr<Connection> {
        return std::make_unique<CountingConnection>(std::move(conn), received);
    };
    RunningServer running(config);
    auto conn = running.connect();
    FerryClient(*conn, chunk).put("wrapped", BytesReader(random_bytes(5000, 4)));
    EXPECT_GE(received.load(), 5000u);

    auto idle = running.connect();
    ASSERT_TRUE(eventually([&] { return running.server().active_connections() == 2; }));
    running.server().stop();
    EXPECT_EQ(running.server().active_connections(), 0u);
}

TEST(Server, AWrapperThatThrowsCostsOnlyItsConnection) {
    std::atomic<int> calls{0};
    ServerConfig config = test_config();
    config.wrap_connection = [&](std::unique_ptr<TcpConnection>) -> std::unique_ptr<Connection> {
        ++calls;
        throw std::runtime_error("wrapper refuses");
    };
    RunningServer running(config);
    for (int i = 0; i < 3; ++i) {
        auto conn = running.connect();
        EXPECT_THAT(testing::recv_to_end(*conn), IsEmpty());
    }
    ASSERT_TRUE(running.wait_until_idle());
    EXPECT_EQ(calls.load(), 3);
    bool logged = false;
    for (const auto& line : running.log()) {
        logged = logged || line.find("wrapper refuses") != std::string::npos;
    }
    EXPECT_TRUE(logged);
}

TEST(Server, ManySequentialClientsAreServedAndReaped) {
    RunningServer running;
    for (int i = 0; i < 300; ++i) {
        auto conn = running.connect();
        ASSERT_EQ(exchange_line(*conn, "DIR\n"), "OK 0") << "client " << i;
    }
    ASSERT_TRUE(running.wait_until_idle());
    // Each accept reaps the threads that finished before it; the run loop
    // also reaps once a second when no client comes.
    EXPECT_TRUE(eventually([&] { return running.server().unjoined_threads() == 0; }))
        << running.server().unjoined_threads() << " threads not joined";
}

TEST(Server, IdleClientGetsErr408AfterTheIdleTimeout) {
    ServerConfig config = test_config();
    config.ferry.idle_timeout = 300ms;
    RunningServer running(config);
    auto conn = running.connect();
    const auto started = SteadyClock::instance().now();
    const auto line = recv_line(*conn, 4096);
    ASSERT_TRUE(line);
    EXPECT_THAT(*line, StartsWith("ERR 408"));
    EXPECT_GE(SteadyClock::instance().now() - started, 300ms);
    EXPECT_TRUE(running.wait_until_idle());
}

}  // namespace
}  // namespace ferry
