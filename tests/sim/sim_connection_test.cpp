// SimConnection does everything the Connection contract allows, and the
// faults of NetworkFaults do what they say.

#include "ferry/sim/sim_connection.h"

#include <gtest/gtest.h>

#include "ferry/protocol/connection.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::bytes_of;
using testing::ms;
using testing::random_bytes;
using testing::recv_all;
using testing::seconds;
using testing::spawn_pair;

ErrorKind error_kind_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const ConnectionError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no ConnectionError";
    return ErrorKind::closed;
}

TEST(SimConnection, CalmNetworkMovesWholeSendsAndReads) {
    Simulation sim({});
    const auto data = random_bytes(1000, 1);
    std::size_t sent = 0, received = 0;
    spawn_pair(
        sim, [&](SimConnection& conn) { sent = conn.send(data); },
        [&](SimConnection& conn) {
            sim.delay(ms(10));
            std::vector<std::byte> buffer(2000);
            received = conn.recv(buffer);
        });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(sent, 1000u);
    EXPECT_EQ(received, 1000u);
}

TEST(SimConnection, ShortReadReturnsPrefix) {
    bool some_short = false;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        SimOptions options;
        options.seed = seed;
        options.faults.short_reads = always;
        Simulation sim(options);
        const auto data = random_bytes(1000, seed);
        std::vector<std::byte> received;
        std::size_t first_read = 0;
        spawn_pair(
            sim, [&](SimConnection& conn) { send_all(conn, data); },
            [&](SimConnection& conn) {
                sim.delay(ms(10));  // everything has arrived
                std::vector<std::byte> buffer(1000);
                first_read = conn.recv(buffer);
                received.assign(buffer.begin(),
                                buffer.begin() + static_cast<std::ptrdiff_t>(first_read));
                const auto rest = recv_all(conn);
                received.insert(received.end(), rest.begin(), rest.end());
            });
        ASSERT_EQ(sim.run().status, RunStatus::completed);
        EXPECT_GE(first_read, 1u);
        EXPECT_LE(first_read, 1000u);
        some_short = some_short || first_read < 1000;
        EXPECT_EQ(received, data);
    }
    EXPECT_TRUE(some_short);
}

TEST(SimConnection, PartialSendTakesANonEmptyPrefix) {
    bool some_partial = false;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        SimOptions options;
        options.seed = seed;
        options.faults.partial_sends = always;
        Simulation sim(options);
        std::size_t taken = 0;
        spawn_pair(
            sim, [&](SimConnection& conn) { taken = conn.send(random_bytes(1000, seed)); },
            [&](SimConnection& conn) { recv_all(conn); });
        ASSERT_EQ(sim.run().status, RunStatus::completed);
        EXPECT_GE(taken, 1u);
        EXPECT_LE(taken, 1000u);
        some_partial = some_partial || taken < 1000;
    }
    EXPECT_TRUE(some_partial);
}

TEST(SimConnection, MaxSendBytesCapsEverySend) {
    SimOptions options;
    options.faults.max_send_bytes = 7;
    Simulation sim(options);
    std::size_t taken = 0;
    spawn_pair(
        sim, [&](SimConnection& conn) { taken = conn.send(random_bytes(1000, 1)); },
        [&](SimConnection& conn) { recv_all(conn); });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(taken, 7u);
}

TEST(SimConnection, RecvReturnsZeroAtEndOfStreamAndKeepsDoingSo) {
    Simulation sim({});
    std::vector<std::byte> received;
    std::size_t after_end_1 = 1, after_end_2 = 1;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            send_all(conn, "abc");
            conn.shutdown_send();
        },
        [&](SimConnection& conn) {
            received = recv_all(conn);
            std::byte byte;
            after_end_1 = conn.recv(std::span(&byte, 1));
            after_end_2 = conn.recv(std::span(&byte, 1));
        });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(received, bytes_of("abc"));
    EXPECT_EQ(after_end_1, 0u);
    EXPECT_EQ(after_end_2, 0u);
}

TEST(SimConnection, HalfClosedSideStillReceives) {
    Simulation sim({});
    std::vector<std::byte> reply;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            send_all(conn, "question");
            conn.shutdown_send();
            reply = recv_all(conn);
        },
        [&](SimConnection& conn) {
            EXPECT_EQ(recv_all(conn), bytes_of("question"));
            send_all(conn, "answer");
        });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(reply, bytes_of("answer"));
}

TEST(SimConnection, EmptySendAndRecvReturnZero) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            EXPECT_EQ(conn.send({}), 0u);
            EXPECT_EQ(conn.recv({}), 0u);
        },
        [&](SimConnection&) {});
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, SendAfterShutdownFailsWithClosed) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            conn.shutdown_send();
            conn.shutdown_send();  // idempotent
            EXPECT_EQ(error_kind_of([&] { conn.send(as_bytes("x")); }), ErrorKind::closed);
        },
        [&](SimConnection& conn) { recv_all(conn); });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, CallsAfterCloseFailWithClosedAndCloseIsIdempotent) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            conn.close();
            conn.close();
            std::byte byte;
            EXPECT_EQ(error_kind_of([&] { conn.send(as_bytes("x")); }), ErrorKind::closed);
            EXPECT_EQ(error_kind_of([&] { conn.recv(std::span(&byte, 1)); }), ErrorKind::closed);
            EXPECT_EQ(error_kind_of([&] { conn.shutdown_send(); }), ErrorKind::closed);
        },
        [&](SimConnection& conn) { recv_all(conn); });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, ResetReachesThePeerAsReset) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            EXPECT_EQ(error_kind_of([&] { recv_all(conn); }), ErrorKind::reset);
        },
        [&](SimConnection& conn) { conn.reset(); });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, ClosingWithUnreadDataResetsThePeer) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            send_all(conn, "more than the server reads");
            EXPECT_EQ(error_kind_of([&] { recv_all(conn); }), ErrorKind::reset);
        },
        [&](SimConnection& conn) {
            sim.delay(ms(10));
            std::byte byte;
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);
            conn.close();
        });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, SendingToAClosedPeerEndsInReset) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            sim.delay(ms(10));  // the server has closed
            EXPECT_EQ(error_kind_of([&] {
                          for (int i = 0; i < 100; ++i) {
                              send_all(conn, "hello");
                              sim.delay(ms(5));
                          }
                      }),
                      ErrorKind::reset);
        },
        [&](SimConnection& conn) { conn.close(); });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, ConnectIsRefusedWhenNobodyListens) {
    Simulation sim({});
    sim.spawn("client", [&] {
        EXPECT_EQ(error_kind_of([&] { sim.network().connect("nobody:1"); }), ErrorKind::refused);
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, RefusedConnectsFaultRefusesAListenedAddress) {
    SimOptions options;
    options.faults.refused_connects = always;
    Simulation sim(options);
    auto listener = sim.network().listen("server:1");
    sim.spawn("client", [&] {
        EXPECT_EQ(error_kind_of([&] { sim.network().connect("server:1"); }), ErrorKind::refused);
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, RecvTimesOutInVirtualTime) {
    Simulation sim({});
    Instant timed_out_at;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            conn.set_timeout(seconds(30));
            const Instant start = sim.now();
            std::byte byte;
            EXPECT_EQ(error_kind_of([&] { conn.recv(std::span(&byte, 1)); }), ErrorKind::timed_out);
            timed_out_at = Instant{sim.now() - start};
        },
        [&](SimConnection&) { sim.delay(seconds(300)); });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(timed_out_at, testing::at(seconds(30)));
}

TEST(SimConnection, DeadlineAppliesAcrossCalls) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            conn.set_deadline(sim.now() + seconds(5));
            std::byte byte;
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);  // arrives at about 1 s
            EXPECT_EQ(error_kind_of([&] { conn.recv(std::span(&byte, 1)); }), ErrorKind::timed_out);
            EXPECT_LE(sim.now(), testing::at(seconds(6)));
        },
        [&](SimConnection& conn) {
            sim.delay(seconds(1));
            send_all(conn, "x");
            sim.delay(seconds(60));
        });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
}

TEST(SimConnection, PeerThatStopsReadingBlocksTheSenderOnceBuffersFill) {
    SimOptions options;
    options.faults.send_buffer_bytes = 10'000;
    options.faults.receive_window_bytes = 20'000;
    Simulation sim(options);
    std::uint64_t accepted = 0;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            conn.set_timeout(seconds(1));
            const auto data = random_bytes(100'000, 1);
            EXPECT_EQ(error_kind_of([&] {
                          std::span<const std::byte> rest(data);
                          while (!rest.empty()) {
                              const std::size_t n = conn.send(rest);
                              accepted += n;
                              rest = rest.subspan(n);
                          }
                      }),
                      ErrorKind::timed_out);
        },
        [&](SimConnection&) { sim.delay(seconds(10)); });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(accepted, 30'000u);  // its send buffer plus the peer's window
}

TEST(SimConnection, BytesArriveInOrderUnderEveryFault) {
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        SimOptions options;
        options.seed = seed;
        options.faults.latency_ms_min = 0;
        options.faults.latency_ms_max = 100;
        options.faults.partial_sends = Ratio{1, 2};
        options.faults.short_reads = Ratio{1, 2};
        options.faults.max_send_bytes = 3000;
        options.faults.send_buffer_bytes = 5000;
        options.faults.receive_window_bytes = 7000;
        options.faults.segment_bytes_max = 1500;
        Simulation sim(options);
        const auto up = random_bytes(200'000, seed);
        const auto down = random_bytes(50'000, seed + 1000);
        std::vector<std::byte> got_up, got_down;
        spawn_pair(
            sim,
            [&](SimConnection& conn) {
                send_all(conn, up);
                conn.shutdown_send();
                got_down = recv_all(conn);
            },
            [&](SimConnection& conn) {
                got_up = recv_all(conn);
                send_all(conn, down);
            });
        ASSERT_EQ(sim.run().status, RunStatus::completed) << "seed " << seed;
        EXPECT_EQ(got_up, up) << "seed " << seed;
        EXPECT_EQ(got_down, down) << "seed " << seed;
    }
}

TEST(SimConnection, LatencyStaysWithinItsBounds) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        SimOptions options;
        options.seed = seed;
        options.faults.latency_ms_min = 5;
        options.faults.latency_ms_max = 9;
        Simulation sim(options);
        Instant sent_at;
        Duration took{};
        spawn_pair(
            sim,
            [&](SimConnection& conn) {
                sim.delay(seconds(1));
                sent_at = sim.now();
                send_all(conn, "x");
            },
            [&](SimConnection& conn) {
                std::byte byte;
                EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);
                took = sim.now() - sent_at;
            });
        ASSERT_EQ(sim.run().status, RunStatus::completed);
        EXPECT_GE(took, ms(5));
        EXPECT_LE(took, ms(9));
    }
}

TEST(SimConnection, StallForADurationDelaysReadsThenResumes) {
    SimOptions options;
    options.faults.stall = StallFault{Side::server, 10, std::nullopt, seconds(5)};
    Simulation sim(options);
    std::vector<std::byte> received;
    Instant done;
    const auto data = random_bytes(100, 1);
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            send_all(conn, data);
            conn.shutdown_send();
        },
        [&](SimConnection& conn) {
            received = recv_all(conn);
            done = sim.now();
        });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(received, data);
    EXPECT_GE(done, testing::at(seconds(5)));
    EXPECT_LT(done, testing::at(seconds(6)));
}

TEST(SimConnection, StallAtATimeStopsReadsFromThen) {
    SimOptions options;
    options.faults.stall =
        StallFault{Side::client, std::nullopt, testing::at(seconds(2)), seconds(3)};
    Simulation sim(options);
    Instant second_read;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            std::byte byte;
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);  // before the stall
            sim.delay(seconds(2));
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);
            second_read = sim.now();
        },
        [&](SimConnection& conn) { send_all(conn, "ab"); });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(second_read, testing::at(seconds(5)));
}

TEST(SimConnection, ResetFaultFiresAtTheExactByte) {
    SimOptions options;
    options.faults.reset = ResetFault{Side::server, 50};
    Simulation sim(options);
    std::vector<std::byte> received;
    ErrorKind server_error = ErrorKind::closed, client_error = ErrorKind::closed;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            client_error = error_kind_of([&] {
                send_all(conn, random_bytes(100, 1));
                recv_all(conn);
            });
        },
        [&](SimConnection& conn) {
            server_error = error_kind_of([&] {
                std::vector<std::byte> buffer(7);
                while (true) {
                    const std::size_t n = conn.recv(buffer);
                    received.insert(received.end(), buffer.begin(),
                                    buffer.begin() + static_cast<std::ptrdiff_t>(n));
                }
            });
        });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(received.size(), 50u);
    EXPECT_EQ(server_error, ErrorKind::reset);
    EXPECT_EQ(client_error, ErrorKind::reset);
}

TEST(SimConnection, ClogDelaysDeliveryUntilItClears) {
    SimOptions options;
    options.faults.clog = ClogFault{testing::at(ms(0)), seconds(2)};
    Simulation sim(options);
    Instant arrived;
    spawn_pair(
        sim, [&](SimConnection& conn) { send_all(conn, "x"); },
        [&](SimConnection& conn) {
            std::byte byte;
            EXPECT_EQ(conn.recv(std::span(&byte, 1)), 1u);
            arrived = sim.now();
        });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_GE(arrived, testing::at(seconds(2)));
}

TEST(SimConnection, PeerNameIsTheOtherEndsAddress) {
    Simulation sim({});
    std::string client_sees, server_sees;
    spawn_pair(
        sim, [&](SimConnection& conn) { client_sees = conn.peer_name(); },
        [&](SimConnection& conn) { server_sees = conn.peer_name(); });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(client_sees, "server:1");
    EXPECT_EQ(server_sees.rfind("client:", 0), 0u);
}

}  // namespace
}  // namespace ferry::sim
