// TcpListener, and the HOST:PORT addresses that name listeners and peers.

#include "ferry/real/tcp_listener.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <system_error>

#include "ferry/real/steady_clock.h"
#include "real_test_support.h"

namespace ferry {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

const Clock& clock_() {
    return SteadyClock::instance();
}

std::string invalid_argument_message(const std::string& text) {
    try {
        parse_host_port(text);
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(HostPort, ParsesIpv4NameAndBracketedIpv6) {
    const HostPort v4 = parse_host_port("127.0.0.1:6789");
    EXPECT_EQ(v4.host, "127.0.0.1");
    EXPECT_EQ(v4.port, 6789);
    const HostPort name = parse_host_port("localhost:0");
    EXPECT_EQ(name.host, "localhost");
    EXPECT_EQ(name.port, 0);
    const HostPort v6 = parse_host_port("[::1]:65535");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 65535);
}

TEST(HostPort, FormatsIpv6InBracketsAndRoundTrips) {
    EXPECT_EQ(format_host_port(HostPort{"::1", 6789}), "[::1]:6789");
    EXPECT_EQ(format_host_port(HostPort{"127.0.0.1", 80}), "127.0.0.1:80");
    for (const std::string text : {"[fe80::1%lo]:1", "example.org:443", "10.0.0.1:0"}) {
        EXPECT_EQ(format_host_port(parse_host_port(text)), text);
    }
}

TEST(HostPort, RejectsBadInputNamingTheBadPart) {
    EXPECT_THAT(invalid_argument_message(""), HasSubstr("empty address"));
    EXPECT_THAT(invalid_argument_message("localhost"), HasSubstr("missing ':'"));
    EXPECT_THAT(invalid_argument_message("localhost:"), HasSubstr("missing port"));
    EXPECT_THAT(invalid_argument_message(":6789"), HasSubstr("missing host"));
    EXPECT_THAT(invalid_argument_message("host:70000"), HasSubstr("port 70000 is out of range"));
    EXPECT_THAT(invalid_argument_message("host:99999999999999999999"), HasSubstr("out of range"));
    EXPECT_THAT(invalid_argument_message("host:http"), HasSubstr("port 'http' is not a decimal"));
    EXPECT_THAT(invalid_argument_message("host:-1"), HasSubstr("port '-1'"));
    EXPECT_THAT(invalid_argument_message("host:+1"), HasSubstr("port '+1'"));
    EXPECT_THAT(invalid_argument_message("host: 1"), HasSubstr("port ' 1'"));
    EXPECT_THAT(invalid_argument_message("[::1:6789"), HasSubstr("missing ']'"));
    EXPECT_THAT(invalid_argument_message("[::1]6789"), HasSubstr("missing ':'"));
    EXPECT_THAT(invalid_argument_message("[]:6789"), HasSubstr("empty host"));
    EXPECT_THAT(invalid_argument_message("::1:6789"), HasSubstr("in brackets"));
    // Every message quotes the whole input.
    EXPECT_THAT(invalid_argument_message("host:70000"), HasSubstr("'host:70000'"));
}

TEST(TcpListener, PortZeroReportsThePortTheKernelChose) {
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
    EXPECT_EQ(listener.local_address().host, "127.0.0.1");
    EXPECT_GT(listener.local_address().port, 0);
}

TEST(TcpListener, AcceptReturnsNoneWhenTheTimeoutPasses) {
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
    const auto started = clock_().now();
    EXPECT_EQ(listener.accept(50ms), nullptr);
    EXPECT_GE(clock_().now() - started, 50ms);
    EXPECT_FALSE(listener.interrupted());
}

TEST(TcpListener, AcceptsAClientThatConnects) {
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
    auto client = connect_tcp(listener.local_address(), clock_(), 10s);
    auto server = listener.accept(10s);
    ASSERT_NE(server, nullptr);
    send_all(*server, "welcome");
    server->close();
    EXPECT_EQ(testing::recv_to_end(*client), testing::to_bytes("welcome"));
}

TEST(TcpListener, InterruptWakesAnAcceptThatWaitsForEver) {
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
    auto waiting = std::async(std::launch::async, [&] { return listener.accept(); });
    EXPECT_EQ(waiting.wait_for(50ms), std::future_status::timeout);
    listener.interrupt();
    ASSERT_EQ(waiting.wait_for(testing::patience), std::future_status::ready);
    EXPECT_EQ(waiting.get(), nullptr);
    EXPECT_TRUE(listener.interrupted());
}

TEST(TcpListener, StaysInterruptedSoLaterAcceptsReturnAtOnce) {
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
    listener.interrupt();
    listener.interrupt();
    auto client = connect_tcp(listener.local_address(), clock_(), 10s);
    EXPECT_EQ(listener.accept(), nullptr);
    EXPECT_EQ(listener.accept(), nullptr);
    EXPECT_TRUE(listener.interrupted());
}

TEST(TcpListener, InterruptLeavesErrnoAlone) {
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock_());
    errno = EDOM;
    listener.interrupt();
    EXPECT_EQ(errno, EDOM);
}

TEST(TcpListener, BindingABusyPortThrowsNamingTheAddress) {
    TcpListener first(HostPort{"127.0.0.1", 0}, clock_());
    try {
        TcpListener second(first.local_address(), clock_());
        FAIL() << "a second listener bound " << format_host_port(first.local_address());
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EADDRINUSE);
        EXPECT_THAT(e.what(), HasSubstr(format_host_port(first.local_address())));
    }
}

TEST(TcpListener, ListensOnIpv6Loopback) {
    std::unique_ptr<TcpListener> listener;
    try {
        listener = std::make_unique<TcpListener>(HostPort{"::1", 0}, clock_());
    } catch (const std::system_error& e) {
        GTEST_SKIP() << "IPv6 loopback unavailable: " << e.what();
    }
    EXPECT_EQ(listener->local_address().host, "::1");
    EXPECT_GT(listener->local_address().port, 0);
}

}  // namespace
}  // namespace ferry
