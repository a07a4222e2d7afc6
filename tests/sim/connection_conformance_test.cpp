// One Connection contract, two backends: every test body here runs against
// SimConnection on the simulated network and against TcpConnection on real
// 127.0.0.1 sockets, and must pass on both (turmoil's sim_arm/real_arm).

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "ferry/protocol/connection.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_connection.h"
#include "ferry/real/tcp_listener.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "ferry/sim/simulation.h"
#include "sim_test_support.h"

namespace ferry {
namespace {

using Body = std::function<void(Connection&)>;

/// The simulated network: the bodies run as two processes.
struct SimBackend {
    static inline sim::Simulation* current = nullptr;

    static void run(const Body& client, const Body& server) {
        sim::Simulation simulation({});
        current = &simulation;
        sim::testing::spawn_pair(
            simulation, [&](sim::SimConnection& conn) { client(conn); },
            [&](sim::SimConnection& conn) { server(conn); });
        const sim::SimResult result = simulation.run();
        EXPECT_EQ(result.status, sim::RunStatus::completed) << result.report.text();
        for (const auto& failure : result.failures) {
            ADD_FAILURE() << failure.process << " threw: " << failure.message;
        }
        current = nullptr;
    }
    static void connect_to_nobody() {
        sim::Simulation simulation({});
        std::optional<ConnectionError> error;
        simulation.spawn("client", [&] {
            try {
                simulation.network().connect("nobody:1");
            } catch (const ConnectionError& e) {
                error = e;
            }
        });
        simulation.run();
        if (error)
            throw *error;
    }
    static void pause(Duration duration) { current->delay(duration); }
    static void reset(Connection& conn) { dynamic_cast<sim::SimConnection&>(conn).reset(); }
};

/// Real sockets on loopback: the server body on a thread, the client here.
struct TcpBackend {
    static void run(const Body& client, const Body& server) {
        TcpListener listener(HostPort{"127.0.0.1", 0}, SteadyClock::instance());
        std::thread server_thread([&] {
            try {
                auto conn = listener.accept(std::chrono::seconds(10));
                if (!conn) {
                    ADD_FAILURE() << "nobody connected";
                    return;
                }
                server(*conn);
            } catch (const std::exception& e) {
                ADD_FAILURE() << "server threw: " << e.what();
            }
        });
        try {
            auto conn = connect_tcp(listener.local_address(), SteadyClock::instance(),
                                    std::chrono::seconds(10));
            client(*conn);
        } catch (const std::exception& e) {
            ADD_FAILURE() << "client threw: " << e.what();
        }
        server_thread.join();
    }
    static void connect_to_nobody() {
        // A port that was just free: bind, note it, close.
        HostPort address;
        {
            TcpListener probe(HostPort{"127.0.0.1", 0}, SteadyClock::instance());
            address = probe.local_address();
        }
        connect_tcp(address, SteadyClock::instance(), std::chrono::seconds(5));
    }
    static void pause(Duration duration) { std::this_thread::sleep_for(duration); }
    static void reset(Connection& conn) { dynamic_cast<TcpConnection&>(conn).reset(); }
};

template <typename Backend>
class ConnectionConformance : public ::testing::Test {};

struct BackendNames {
    template <typename T>
    static std::string GetName(int) {
        return std::is_same_v<T, SimBackend> ? "Sim" : "Tcp";
    }
};

using Backends = ::testing::Types<SimBackend, TcpBackend>;
TYPED_TEST_SUITE(ConnectionConformance, Backends, BackendNames);

using sim::testing::bytes_of;
using sim::testing::random_bytes;
using sim::testing::recv_all;
using namespace std::chrono_literals;

ErrorKind error_kind_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const ConnectionError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no ConnectionError";
    return ErrorKind::closed;
}

TYPED_TEST(ConnectionConformance, EveryByteArrivesInOrder) {
    const auto data = random_bytes(300'000, 1);
    std::vector<std::byte> received;
    TypeParam::run(
        [&](Connection& conn) {
            send_all(conn, data);
            conn.shutdown_send();
        },
        [&](Connection& conn) { received = recv_all(conn); });
    EXPECT_EQ(received, data);
}

TYPED_TEST(ConnectionConformance, SendTakesAtLeastOneByteAndAtMostWhatItIsGiven) {
    TypeParam::run(
        [&](Connection& conn) {
            const auto data = random_bytes(100'000, 2);
            const std::size_t taken = conn.send(data);
            EXPECT_GE(taken, 1u);
            EXPECT_LE(taken, data.size());
            send_all(conn, std::span(data).subspan(taken));
        },
        [&](Connection& conn) { EXPECT_EQ(recv_all(conn).size(), 100'000u); });
}

TYPED_TEST(ConnectionConformance, RecvReturnsAtMostTheBufferAndAtLeastOneByte) {
    TypeParam::run([&](Connection& conn) { send_all(conn, "0123456789abcdef"); },
                   [&](Connection& conn) {
                       std::vector<std::byte> buffer(5);
                       const std::size_t got = conn.recv(buffer);
                       EXPECT_GE(got, 1u);
                       EXPECT_LE(got, 5u);
                       recv_all(conn);
                   });
}

TYPED_TEST(ConnectionConformance, RecvReturnsZeroOnceThePeerShutsDownSending) {
    std::size_t first = 1, second = 1;
    TypeParam::run(
        [&](Connection& conn) {
            send_all(conn, "bye");
            conn.shutdown_send();
            recv_all(conn);
        },
        [&](Connection& conn) {
            EXPECT_EQ(recv_all(conn), bytes_of("bye"));
            std::byte byte;
            first = conn.recv(std::span(&byte, 1));
            second = conn.recv(std::span(&byte, 1));
        });
    EXPECT_EQ(first, 0u);
    EXPECT_EQ(second, 0u);
}

TYPED_TEST(ConnectionConformance, HalfClosedConnectionStillCarriesTheReply) {
    std::vector<std::byte> reply;
    TypeParam::run(
        [&](Connection& conn) {
            send_all(conn, "question");
            conn.shutdown_send();
            reply = recv_all(conn);
        },
        [&](Connection& conn) {
            EXPECT_EQ(recv_all(conn), bytes_of("question"));
            send_all(conn, "answer");
        });
    EXPECT_EQ(reply, bytes_of("answer"));
}

TYPED_TEST(ConnectionConformance, EmptySendAndRecvReturnZero) {
    TypeParam::run(
        [&](Connection& conn) {
            EXPECT_EQ(conn.send({}), 0u);
            EXPECT_EQ(conn.recv({}), 0u);
        },
        [&](Connection&) {});
}

TYPED_TEST(ConnectionConformance, CallsAfterCloseFailWithClosed) {
    TypeParam::run(
        [&](Connection& conn) {
            conn.close();
            conn.close();  // idempotent
            std::byte byte;
            EXPECT_EQ(error_kind_of([&] { conn.send(as_bytes("x")); }), ErrorKind::closed);
            EXPECT_EQ(error_kind_of([&] { conn.recv(std::span(&byte, 1)); }), ErrorKind::closed);
        },
        [&](Connection& conn) { recv_all(conn); });
}

TYPED_TEST(ConnectionConformance, SendAfterShutdownSendFailsWithClosed) {
    TypeParam::run(
        [&](Connection& conn) {
            conn.shutdown_send();
            EXPECT_EQ(error_kind_of([&] { conn.send(as_bytes("x")); }), ErrorKind::closed);
        },
        [&](Connection& conn) { recv_all(conn); });
}

TYPED_TEST(ConnectionConformance, RecvTimesOutWhenNothingArrives) {
    TypeParam::run(
        [&](Connection& conn) {
            conn.set_timeout(100ms);
            const Instant start = conn.clock().now();
            std::byte byte;
            EXPECT_EQ(error_kind_of([&] { conn.recv(std::span(&byte, 1)); }), ErrorKind::timed_out);
            EXPECT_GE(conn.clock().now() - start, 100ms);
        },
        [&](Connection& conn) {
            TypeParam::pause(300ms);
            conn.close();
        });
}

TYPED_TEST(ConnectionConformance, ADeadlineThatHasPassedTimesOutAtOnce) {
    TypeParam::run(
        [&](Connection& conn) {
            conn.set_deadline(conn.clock().now());
            std::byte byte;
            EXPECT_EQ(error_kind_of([&] { conn.recv(std::span(&byte, 1)); }), ErrorKind::timed_out);
        },
        // The peer stays until the client is done: had it closed at once, an
        // end of stream could arrive first, and bytes (or an end) that have
        // arrived are returned even past a deadline.
        [&](Connection& conn) { recv_all(conn); });
}

TYPED_TEST(ConnectionConformance, APeerResetIsSeenAsReset) {
    // The server resets only once the client has shown it is connected: over
    // real TCP a reset sent straight after accept can beat connect() home.
    TypeParam::run(
        [&](Connection& conn) {
            send_all(conn, "x");
            EXPECT_EQ(error_kind_of([&] { recv_all(conn); }), ErrorKind::reset);
        },
        [&](Connection& conn) {
            std::byte byte;
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);
            TypeParam::reset(conn);
        });
}

TYPED_TEST(ConnectionConformance, BytesThatArrivedBeforeAResetAreStillRead) {
    // As the kernel does: a reset does not take back what was delivered, so a
    // client whose upload is cut off still reads the server's ERR line.
    TypeParam::run(
        [&](Connection& conn) {
            send_all(conn, "x");
            TypeParam::pause(50ms);  // the line and the reset have arrived
            std::string got;
            EXPECT_EQ(error_kind_of([&] {
                          std::byte buffer[64];
                          while (true) {
                              const std::size_t n = conn.recv(buffer);
                              if (n == 0)
                                  break;
                              got += as_text(std::span<const std::byte>(buffer, n));
                          }
                      }),
                      ErrorKind::reset);
            EXPECT_EQ(got, "ERR 507 disk full\n");
        },
        [&](Connection& conn) {
            std::byte byte;
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);
            send_all(conn, "ERR 507 disk full\n");
            TypeParam::pause(10ms);
            TypeParam::reset(conn);
        });
}

TYPED_TEST(ConnectionConformance, ClosingWithUnreadDataResetsThePeer) {
    TypeParam::run(
        [&](Connection& conn) {
            send_all(conn, "more than the server will read");
            EXPECT_EQ(error_kind_of([&] { recv_all(conn); }), ErrorKind::reset);
        },
        [&](Connection& conn) {
            TypeParam::pause(50ms);  // all of it has arrived
            std::byte byte;
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);
            conn.close();
        });
}

TYPED_TEST(ConnectionConformance, APeerThatDoesNotReadEventuallyBlocksTheSender) {
    // Made before either side starts: the sender must be sending well within
    // the peer's second of silence, also on a loaded machine under sanitizers.
    const auto chunk = random_bytes(1 << 20, 3);
    TypeParam::run(
        [&](Connection& conn) {
            conn.set_timeout(200ms);
            std::uint64_t sent = 0;
            EXPECT_EQ(error_kind_of([&] {
                          while (sent < (std::uint64_t{1} << 30))
                              sent += conn.send(chunk);
                      }),
                      ErrorKind::timed_out);
            EXPECT_GT(sent, 0u);
        },
        [&](Connection& conn) {
            TypeParam::pause(1s);
            TypeParam::reset(conn);
        });
}

TYPED_TEST(ConnectionConformance, ConnectingWhereNobodyListensIsRefused) {
    EXPECT_EQ(error_kind_of([] { TypeParam::connect_to_nobody(); }), ErrorKind::refused);
}

}  // namespace
}  // namespace ferry
