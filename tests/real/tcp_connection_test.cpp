// TcpConnection and connect_tcp over loopback: the Connection contract of
// protocol/connection.h, honoured by real sockets.

#include "ferry/real/tcp_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <future>
#include <system_error>
#include <thread>

#include "ferry/protocol/span_reader.h"
#include "ferry/real/disk_store.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_listener.h"
#include "real_test_support.h"

namespace ferry {
namespace {

using testing::Bytes;
using testing::connected_pair;
using testing::connection_error;
using ::testing::HasSubstr;
using testing::random_bytes;
using testing::recv_to_end;
using ::testing::StartsWith;
using testing::to_bytes;
using namespace std::chrono_literals;

const Clock& clock_() {
    return SteadyClock::instance();
}

TEST(TcpConnection, SendAndRecvMoveBytesBothWays) {
    auto pair = connected_pair();
    send_all(*pair.client, "hello from the client");
    pair.client->shutdown_send();
    EXPECT_EQ(recv_to_end(*pair.server), to_bytes("hello from the client"));

    send_all(*pair.server, "and back");
    pair.server->shutdown_send();
    EXPECT_EQ(recv_to_end(*pair.client), to_bytes("and back"));
}

TEST(TcpConnection, LargeTransferArrivesIntactThroughShortReadsAndPartialSends) {
    auto pair = connected_pair();
    const Bytes sent = random_bytes(8 * 1024 * 1024 + 3, 42);
    std::thread sender([&] {
        send_all(*pair.client, sent);
        pair.client->shutdown_send();
    });
    const Bytes received = recv_to_end(*pair.server);
    sender.join();
    EXPECT_EQ(received, sent);
}

TEST(TcpConnection, RecvReturnsZeroAfterPeerShutdown) {
    auto pair = connected_pair();
    send_all(*pair.client, "x");
    pair.client->shutdown_send();
    std::byte buffer[8];
    EXPECT_EQ(pair.server->recv(buffer), 1u);
    EXPECT_EQ(pair.server->recv(buffer), 0u);
    EXPECT_EQ(pair.server->recv(buffer), 0u);  // and stays at end of stream
}

TEST(TcpConnection, RecvReturnsZeroAfterPeerCloses) {
    auto pair = connected_pair();
    pair.client->close();
    std::byte buffer[8];
    EXPECT_EQ(pair.server->recv(buffer), 0u);
}

TEST(TcpConnection, CanStillRecvAfterShutdownSend) {
    auto pair = connected_pair();
    pair.client->shutdown_send();
    std::byte buffer[8];
    EXPECT_EQ(pair.server->recv(buffer), 0u);
    send_all(*pair.server, "reply");
    pair.server->close();
    EXPECT_EQ(recv_to_end(*pair.client), to_bytes("reply"));
}

TEST(TcpConnection, SendAfterShutdownSendFailsWithClosed) {
    auto pair = connected_pair();
    pair.client->shutdown_send();
    const auto error = connection_error([&] { send_all(*pair.client, "late"); });
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::closed);
    EXPECT_THAT(error->what(), HasSubstr(pair.client->peer_name()));
}

TEST(TcpConnection, RecvWithEmptyBufferReturnsZeroWithoutBlocking) {
    auto pair = connected_pair();
    pair.server->set_timeout(10s);
    std::span<std::byte> empty;
    EXPECT_EQ(pair.server->recv(empty), 0u);
}

TEST(TcpConnection, SendOfNothingReturnsZero) {
    auto pair = connected_pair();
    EXPECT_EQ(pair.client->send(std::span<const std::byte>()), 0u);
}

TEST(TcpConnection, EveryCallAfterCloseFailsWithClosed) {
    auto pair = connected_pair();
    pair.client->close();
    pair.client->close();  // idempotent
    std::byte buffer[4];
    for (const auto& call : std::vector<std::function<void()>>{
             [&] { pair.client->send(as_bytes("x")); },
             [&] { pair.client->recv(buffer); },
             [&] { pair.client->shutdown_send(); },
         }) {
        const auto error = connection_error(call);
        ASSERT_TRUE(error);
        EXPECT_EQ(error->kind(), ErrorKind::closed) << error->what();
        EXPECT_THAT(error->what(), HasSubstr(pair.client->peer_name()));
    }
    EXPECT_EQ(pair.client->fd(), -1);
}

TEST(TcpConnection, ResetMakesPeerRecvFailWithReset) {
    auto pair = connected_pair();
    pair.client->reset();
    pair.client->reset();  // idempotent
    pair.server->set_timeout(10s);
    std::byte buffer[8];
    const auto error = connection_error([&] { pair.server->recv(buffer); });
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::reset);
    EXPECT_THAT(error->what(), HasSubstr(pair.server->peer_name()));
}

TEST(TcpConnection, SendToResetPeerFailsWithReset) {
    auto pair = connected_pair();
    pair.client->reset();
    pair.server->set_timeout(10s);
    const Bytes chunk(64 * 1024);
    // The first sends may still be taken before the reset arrives.
    const auto error = connection_error([&] {
        for (int i = 0; i < 100000; ++i)
            pair.server->send(chunk);
    });
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::reset);
}

TEST(TcpConnection, RecvTimesOutAfterPerCallTimeout) {
    auto pair = connected_pair();
    pair.server->set_timeout(100ms);
    std::byte buffer[8];
    const auto started = clock_().now();
    const auto error = connection_error([&] { pair.server->recv(buffer); });
    ASSERT_TRUE(error) << "the whole file went into the sockets' buffers";
    EXPECT_EQ(error->kind(), ErrorKind::timed_out) << error->what();
    EXPECT_GE(clock_().now() - started, 100ms);
    EXPECT_THAT(error->what(), HasSubstr(pair.server->peer_name()));

    // A timeout leaves the connection usable.
    send_all(*pair.client, "late");
    EXPECT_EQ(pair.server->recv(buffer), 4u);
}

TEST(TcpConnection, RecvFailsOnceTheDeadlinePasses) {
    auto pair = connected_pair();
    pair.server->set_deadline(clock_().now() + 50ms);
    std::byte buffer[8];
    const auto started = clock_().now();
    const auto error = connection_error([&] { pair.server->recv(buffer); });
    ASSERT_TRUE(error) << "the whole file went into the sockets' buffers";
    EXPECT_EQ(error->kind(), ErrorKind::timed_out) << error->what();
    EXPECT_GE(clock_().now() - started, 50ms);
}

TEST(TcpConnection, DeadlineIsTheEarlierOfDeadlineAndTimeout) {
    auto pair = connected_pair();
    pair.server->set_timeout(60s);
    pair.server->set_deadline(clock_().now() + 50ms);
    std::byte buffer[8];
    const auto started = clock_().now();
    const auto error = connection_error([&] { pair.server->recv(buffer); });
    ASSERT_TRUE(error) << "the whole file went into the sockets' buffers";
    EXPECT_EQ(error->kind(), ErrorKind::timed_out) << error->what();
    EXPECT_LT(clock_().now() - started, 30s);
}

TEST(TcpConnection, BytesAlreadyThereAreReturnedEvenPastTheDeadline) {
    auto pair = connected_pair();
    send_all(*pair.client, "ready");
    pair.client->shutdown_send();
    // Wait until the bytes are surely in the server's receive buffer.
    ASSERT_TRUE(testing::eventually([&] {
        std::byte probe[8];
        return ::recv(pair.server->fd(), probe, sizeof probe, MSG_PEEK | MSG_DONTWAIT) == 5;
    }));
    pair.server->set_deadline(clock_().now() + Duration(-1s));
    std::byte buffer[8];
    EXPECT_EQ(pair.server->recv(buffer), 5u);
}

TEST(TcpConnection, SendTakesPartOfALargeBufferWhenThePeerDoesNotRead) {
    auto pair = connected_pair();
    pair.client->set_timeout(5s);
    const Bytes huge(64 * 1024 * 1024);
    const std::size_t taken = pair.client->send(huge);
    EXPECT_GE(taken, 1u);
    EXPECT_LT(taken, huge.size());
}

TEST(TcpConnection, SendTimesOutWhenThePeerStopsReading) {
    auto pair = connected_pair();
    pair.client->set_timeout(200ms);
    const Bytes chunk(256 * 1024);
    std::uint64_t sent = 0;
    const auto error = connection_error([&] {
        for (;;)
            sent += pair.client->send(chunk);
    });
    ASSERT_TRUE(error) << "the whole file went into the sockets' buffers";
    EXPECT_EQ(error->kind(), ErrorKind::timed_out) << error->what();
    EXPECT_GT(sent, 0u);
}

TEST(TcpConnection, InterruptWakesABlockedRecvWhichFailsWithClosed) {
    auto pair = connected_pair();
    auto blocked = std::async(std::launch::async, [&] {
        std::byte buffer[8];
        return connection_error([&] { pair.server->recv(buffer); });
    });
    // Whether interrupt() lands before or during the recv, the recv fails.
    std::this_thread::yield();
    pair.server->interrupt();
    ASSERT_EQ(blocked.wait_for(testing::patience), std::future_status::ready);
    const auto error = blocked.get();
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::closed);
    // The peer sees the connection end.
    std::byte buffer[8];
    pair.client->set_timeout(10s);
    EXPECT_EQ(pair.client->recv(buffer), 0u);
}

TEST(TcpConnection, InterruptWakesABlockedSend) {
    auto pair = connected_pair();
    auto blocked = std::async(std::launch::async, [&] {
        const Bytes chunk(1024 * 1024);
        return connection_error([&] {
            for (;;)
                pair.client->send(chunk);
        });
    });
    // Let the sender fill the buffers and block.
    EXPECT_EQ(blocked.wait_for(100ms), std::future_status::timeout);
    pair.client->interrupt();
    ASSERT_EQ(blocked.wait_for(testing::patience), std::future_status::ready);
    const auto error = blocked.get();
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::closed);
}

TEST(TcpConnection, InterruptAfterCloseIsHarmless) {
    auto pair = connected_pair();
    pair.server->close();
    pair.server->interrupt();
    EXPECT_EQ(pair.server->fd(), -1);
}

TEST(TcpConnection, PeerNamesAreNumericHostAndPort) {
    const Clock& clock = clock_();
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock);
    auto client = connect_tcp(listener.local_address(), clock, 10s);
    auto server = listener.accept(10s);
    ASSERT_TRUE(server);
    EXPECT_EQ(client->peer_name(), format_host_port(listener.local_address()));
    EXPECT_THAT(server->peer_name(), StartsWith("127.0.0.1:"));
}

TEST(TcpConnection, ConnectToAPortNobodyListensOnIsRefused) {
    HostPort address;
    {
        TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
        address = listener.local_address();
    }
    const auto error = connection_error([&] { connect_tcp(address, clock_(), 10s); });
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::refused);
    EXPECT_THAT(error->what(), HasSubstr(format_host_port(address)));
}

TEST(TcpConnection, ConnectTimesOutWhenTheListenerQueueIsFull) {
    // A listener that never accepts, with a backlog of one: once its queue is
    // full the kernel drops further SYNs, so a connect waits.
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_(), 1);
    std::vector<std::unique_ptr<TcpConnection>> queued;
    std::optional<ConnectionError> error;
    for (int i = 0; i < 16 && !error; ++i) {
        error = connection_error(
            [&] { queued.push_back(connect_tcp(listener.local_address(), clock_(), 300ms)); });
    }
    ASSERT_TRUE(error) << "16 connects to a full queue all succeeded";
    EXPECT_EQ(error->kind(), ErrorKind::timed_out) << error->what();
    EXPECT_THAT(error->what(), HasSubstr(format_host_port(listener.local_address())));
}

TEST(TcpConnection, ConnectByNameTriesEveryAddress) {
    // "localhost" may resolve to ::1 first; the listener is on IPv4 only.
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
    auto client = connect_tcp(HostPort{"localhost", listener.local_address().port}, clock_(), 10s);
    auto server = listener.accept(10s);
    ASSERT_TRUE(server);
    send_all(*client, "hi");
    client->shutdown_send();
    EXPECT_EQ(recv_to_end(*server), to_bytes("hi"));
}

TEST(TcpConnection, WorksOverIpv6Loopback) {
    std::unique_ptr<TcpListener> listener;
    try {
        listener = std::make_unique<TcpListener>(HostPort{"::1", 0}, clock_());
    } catch (const std::system_error& e) {
        GTEST_SKIP() << "IPv6 loopback unavailable: " << e.what();
    }
    const HostPort bound = listener->local_address();
    EXPECT_EQ(bound.host, "::1");
    const std::string text = format_host_port(bound);
    EXPECT_THAT(text, StartsWith("[::1]:"));

    auto client = connect_tcp(parse_host_port(text), clock_(), 10s);
    auto server = listener->accept(10s);
    ASSERT_TRUE(server);
    EXPECT_EQ(client->peer_name(), text);
    EXPECT_THAT(server->peer_name(), StartsWith("[::1]:"));
    send_all(*client, "over v6");
    client->shutdown_send();
    EXPECT_EQ(recv_to_end(*server), to_bytes("over v6"));
}

TEST(TcpConnection, SetsNoDelay) {
    auto pair = connected_pair();
    int on = 0;
    socklen_t length = sizeof on;
    ASSERT_EQ(::getsockopt(pair.client->fd(), IPPROTO_TCP, TCP_NODELAY, &on, &length), 0);
    EXPECT_NE(on, 0);
}

/// A file of bytes committed to a store on a fresh directory, opened.
struct OpenedFile {
    explicit OpenedFile(const Bytes& bytes) : store(dir.path()) {
        auto upload = store.begin_upload("f");
        upload->write(bytes);
        upload->commit();
        reader = store.open("f");
    }
    testing::TempDir dir;
    DiskStore store;
    std::unique_ptr<FileReader> reader;
};

/// Sends count bytes of file from offset with send_file until all are taken;
/// returns how many each call took.
std::vector<std::size_t> send_file_all(Connection& conn, const FileReader& file,
                                       std::uint64_t offset, std::uint64_t count) {
    std::vector<std::size_t> taken;
    while (count > 0) {
        const auto sent = conn.send_file(file, offset, count);
        if (!sent)
            throw std::logic_error("send_file declined a file with a descriptor");
        taken.push_back(*sent);
        offset += *sent;
        count -= *sent;
    }
    return taken;
}

TEST(TcpConnectionSendFile, SendsAFileStraightFromItsDescriptorInPartsAsTheSocketTakesThem) {
    const Bytes bytes = random_bytes(16 * 1024 * 1024 + 7, 9);
    OpenedFile file(bytes);
    ASSERT_GE(file.reader->descriptor(), 0);
    auto pair = connected_pair();
    std::vector<std::size_t> taken;
    std::thread sender([&] {
        taken = send_file_all(*pair.server, *file.reader, 3, bytes.size() - 3);
        pair.server->shutdown_send();
    });
    std::this_thread::sleep_for(50ms);  // the socket fills while nobody reads
    const Bytes received = recv_to_end(*pair.client);
    sender.join();
    EXPECT_EQ(received, Bytes(bytes.begin() + 3, bytes.end()));
    EXPECT_GT(taken.size(), 1u) << "a full socket takes part of a file";
}

TEST(TcpConnectionSendFile, TimesOutWhenThePeerDoesNotRead) {
    const Bytes bytes = random_bytes(32 * 1024 * 1024, 10);
    OpenedFile file(bytes);
    auto pair = connected_pair();
    pair.server->set_timeout(100ms);
    const auto error =
        connection_error([&] { send_file_all(*pair.server, *file.reader, 0, bytes.size()); });
    ASSERT_TRUE(error) << "the whole file went into the sockets' buffers";
    EXPECT_EQ(error->kind(), ErrorKind::timed_out) << error->what();
    EXPECT_THAT(error->what(), HasSubstr("sendfile"));
}

TEST(TcpConnectionSendFile, APeerThatResetsEndsTheSendWithReset) {
    const Bytes bytes = random_bytes(32 * 1024 * 1024, 11);  // more than the sockets hold
    OpenedFile file(bytes);
    auto pair = connected_pair();
    pair.server->set_timeout(10s);
    std::thread resetter([&] {
        std::byte some[1000];
        (void)pair.client->recv(some);
        pair.client->reset();
    });
    const auto error =
        connection_error([&] { send_file_all(*pair.server, *file.reader, 0, bytes.size()); });
    resetter.join();
    ASSERT_TRUE(error) << "the whole file went into the sockets' buffers";
    EXPECT_EQ(error->kind(), ErrorKind::reset) << error->what();
}

// sendfile(2), unlike send with MSG_NOSIGNAL, raises SIGPIPE on a socket
// that can no longer send: a program using ferry::real that did not ignore
// SIGPIPE (this test's does not) must get a ConnectionError, not die, and be
// left no pending signal.
TEST(TcpConnectionSendFile, ASocketThatCanNoLongerSendFailsWithoutASignal) {
    ASSERT_EQ(signal(SIGPIPE, SIG_DFL), SIG_DFL) << "the test needs SIGPIPE's default: death";
    const Bytes bytes = random_bytes(4096, 12);
    OpenedFile file(bytes);
    auto pair = connected_pair();
    ASSERT_EQ(::shutdown(pair.server->fd(), SHUT_WR), 0);  // behind the connection's back
    const auto error =
        connection_error([&] { (void)pair.server->send_file(*file.reader, 0, bytes.size()); });
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::reset) << error->what();
    EXPECT_THAT(error->what(), HasSubstr("sendfile"));
    sigset_t pending;
    sigemptyset(&pending);
    ASSERT_EQ(sigpending(&pending), 0);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "a SIGPIPE was left pending";
}

TEST(TcpConnectionSendFile, DeclinesAFileWithoutADescriptorOrPastItsEnd) {
    auto pair = connected_pair();
    const Bytes bytes = to_bytes("in memory");
    const SpanReader in_memory(bytes);
    EXPECT_EQ(pair.server->send_file(in_memory, 0, bytes.size()), std::nullopt);
    OpenedFile file(bytes);
    // The file is shorter than asked: the caller's read_at says so.
    EXPECT_EQ(pair.server->send_file(*file.reader, bytes.size(), 5), std::nullopt);
    EXPECT_EQ(pair.server->send_file(*file.reader, 0, 0), std::optional<std::size_t>(0));
}

TEST(TcpConnectionSendFile, AfterShutdownSendItFailsAsSendDoes) {
    OpenedFile file(to_bytes("x"));
    auto pair = connected_pair();
    pair.server->shutdown_send();
    const auto error = connection_error([&] { pair.server->send_file(*file.reader, 0, 1); });
    ASSERT_TRUE(error);
    EXPECT_EQ(error->kind(), ErrorKind::closed);
}

}  // namespace
}  // namespace ferry
