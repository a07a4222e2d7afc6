// The accept loop with a scripted listener and a task runner that holds the
// tasks until the test runs them: the limit, refusals, the events and a task
// that cannot start, without threads or a simulator.

#include "ferry/protocol/accept_loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>
#include <vector>

#include "fake_connection.h"

namespace ferry {
namespace {

using ::testing::ElementsAre;
using testing::ScriptedConnection;

/// A connection the test keeps: what the loop gets (and destroys) forwards
/// to it, so the test can still look at it afterwards.
class Borrowed : public Connection {
  public:
    Borrowed(ScriptedConnection& inner, std::string peer)
        : Connection(inner.clock()), inner_(inner), peer_(std::move(peer)) {}
    std::size_t do_send(std::span<const std::byte> bytes) override {
        return inner_.send(bytes, send_site());
    }
    std::size_t do_recv(std::span<std::byte> buffer) override {
        return inner_.recv(buffer, recv_site());
    }
    void shutdown_send() override { inner_.shutdown_send(); }
    void close() override { inner_.close(); }
    std::string peer_name() const override { return peer_; }

  private:
    ScriptedConnection& inner_;
    std::string peer_;
};

/// Hands out the connections it was given, one per accept, then is closed.
class ScriptedListener : public Listener {
  public:
    ScriptedConnection& add(std::string peer = "10.0.0.1:4000") {
        owned_.push_back(std::make_unique<ScriptedConnection>(""));
        pending_.push_back({owned_.back().get(), std::move(peer)});
        return *owned_.back();
    }
    std::unique_ptr<Connection> accept(std::optional<Duration>) override {
        if (pending_.empty()) {
            closed_ = true;
            return nullptr;
        }
        auto [conn, peer] = pending_.front();
        pending_.pop_front();
        return std::make_unique<Borrowed>(*conn, std::move(peer));
    }
    bool closed() const override { return closed_; }

  private:
    std::vector<std::unique_ptr<ScriptedConnection>> owned_;
    std::deque<std::pair<ScriptedConnection*, std::string>> pending_;
    bool closed_ = false;
};

/// Keeps each task to run later, or refuses to start any.
class HeldTasks : public TaskRunner {
  public:
    void spawn(std::string, std::function<void()> body) override {
        if (fail)
            throw std::runtime_error("no thread");
        bodies.push_back(std::move(body));
    }
    void run_all() {
        for (auto& body : bodies)
            body();
        bodies.clear();
    }
    std::vector<std::function<void()>> bodies;
    bool fail = false;
};

struct Recorded {
    std::vector<std::string> events;
    std::vector<std::uint64_t> served;
    ConnectionHandlers handlers;
    AcceptLoopOptions options;

    Recorded() {
        handlers.serve = [this](Connection& conn, std::uint64_t id) {
            served.push_back(id);
            send_all(conn, "served\n");
        };
        handlers.refuse = [](Connection& conn, SlotsFull) { send_all(conn, "busy\n"); };
        options.on_event = [this](const AcceptEvent& e) {
            events.push_back(
                fmt::format("{} {} active={}", to_string(e.kind), e.connection, e.active));
        };
    }
};

TEST(AcceptLoop, ClientsPastTheLimitAreRefusedWhileTheOthersAreServed) {
    ScriptedListener listener;
    ScriptedConnection& first = listener.add();
    ScriptedConnection& second = listener.add();
    ScriptedConnection& third = listener.add();
    HeldTasks tasks;
    ConnectionSlots slots(2);
    Recorded r;
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);

    EXPECT_EQ(third.sent(), "busy\n");
    EXPECT_TRUE(third.closed());
    EXPECT_EQ(slots.active(), 2u);
    tasks.run_all();
    EXPECT_EQ(first.sent(), "served\n");
    EXPECT_EQ(second.sent(), "served\n");
    EXPECT_TRUE(first.closed());
    EXPECT_EQ(slots.active(), 0u);
    EXPECT_THAT(r.events,
                ElementsAre("accepted 1 active=1", "accepted 2 active=2", "refused 3 active=2",
                            "finished 1 active=1", "finished 2 active=0"));
}

TEST(AcceptLoop, ASlotFreedByAFinishedClientIsTakenByTheNext) {
    ScriptedListener listener;
    listener.add();
    HeldTasks tasks;
    ConnectionSlots slots(1);
    Recorded r;
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);
    tasks.run_all();
    ScriptedConnection& later = listener.add();
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);
    tasks.run_all();
    EXPECT_EQ(later.sent(), "served\n");
}

TEST(AcceptLoop, AServeThatThrowsIsReportedAndItsSlotGivenBack) {
    ScriptedListener listener;
    ScriptedConnection& conn = listener.add();
    HeldTasks tasks;
    ConnectionSlots slots(1);
    Recorded r;
    std::string detail;
    r.handlers.serve = [](Connection&, std::uint64_t) { throw std::runtime_error("disk gone"); };
    r.options.on_event = [&](const AcceptEvent& e) {
        if (e.kind == AcceptEvent::Kind::finished)
            detail = e.detail;
    };
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);
    tasks.run_all();
    EXPECT_EQ(detail, "disk gone");
    EXPECT_TRUE(conn.closed());
    EXPECT_EQ(slots.active(), 0u);
}

TEST(AcceptLoop, AClientNoTaskCanServeIsDroppedAndItsSlotGivenBack) {
    ScriptedListener listener;
    ScriptedConnection& conn = listener.add();
    HeldTasks tasks;
    tasks.fail = true;
    ConnectionSlots slots(1);
    Recorded r;
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);
    EXPECT_TRUE(conn.closed());
    EXPECT_EQ(slots.active(), 0u);
    EXPECT_THAT(r.events, ElementsAre("accepted 1 active=1", "not started 1 active=0"));
}

TEST(AcceptLoop, AnAddressPastItsCapIsRefusedWhileOthersAreServed) {
    ScriptedListener listener;
    listener.add("10.0.0.1:1");
    ScriptedConnection& same_address = listener.add("10.0.0.1:2");
    ScriptedConnection& other_address = listener.add("10.0.0.2:1");
    HeldTasks tasks;
    ConnectionSlots slots(10, 1);
    Recorded r;
    std::vector<SlotsFull> reasons;
    r.handlers.refuse = [&](Connection& conn, SlotsFull why) {
        reasons.push_back(why);
        send_all(conn, "busy\n");
    };
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);
    EXPECT_EQ(same_address.sent(), "busy\n");
    EXPECT_THAT(reasons, ElementsAre(SlotsFull::address));
    tasks.run_all();
    EXPECT_EQ(other_address.sent(), "served\n");
    EXPECT_EQ(slots.active(), 0u);
}

TEST(AcceptLoop, AClientTakesTheSlotOfAConnectionEndedToMakeRoom) {
    ScriptedListener listener;
    listener.add("10.0.0.1:1");
    ScriptedConnection& newcomer = listener.add("10.0.0.2:1");
    HeldTasks tasks;
    ConnectionSlots slots(1);
    Recorded r;
    std::vector<std::string> asked;
    r.handlers.make_room = [&](std::string_view address, SlotsFull why) {
        asked.push_back(fmt::format("{} {}", address, to_string(why)));
        return true;
    };
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);
    EXPECT_THAT(asked, ElementsAre("10.0.0.2 too many connections"));
    EXPECT_EQ(slots.active(), 2u);  // until the ended connection gives its slot back
    tasks.run_all();
    EXPECT_EQ(newcomer.sent(), "served\n");
    EXPECT_EQ(slots.active(), 0u);
}

TEST(AcceptLoop, AClientIsRefusedWhenNoRoomCanBeMade) {
    ScriptedListener listener;
    listener.add();
    ScriptedConnection& newcomer = listener.add();
    HeldTasks tasks;
    ConnectionSlots slots(1);
    Recorded r;
    r.handlers.make_room = [](std::string_view, SlotsFull) { return false; };
    run_accept_loop(listener, tasks, slots, r.handlers, r.options);
    EXPECT_EQ(newcomer.sent(), "busy\n");
    EXPECT_EQ(slots.active(), 1u);
}

TEST(ConnectionSlots, CountsEachAddressAgainstItsCap) {
    ConnectionSlots slots(3, 2);
    EXPECT_EQ(slots.try_take("a"), SlotsFull::no);
    EXPECT_EQ(slots.try_take("a"), SlotsFull::no);
    EXPECT_EQ(slots.try_take("a"), SlotsFull::address);
    EXPECT_EQ(slots.try_take("b"), SlotsFull::no);
    EXPECT_EQ(slots.try_take("c"), SlotsFull::server);
    slots.release("a");
    EXPECT_EQ(slots.active_from("a"), 1u);
    EXPECT_EQ(slots.try_take("c"), SlotsFull::no);
}

TEST(AddressOf, DropsThePortOfIPv4AndBracketedIPv6) {
    EXPECT_EQ(address_of("127.0.0.1:5555"), "127.0.0.1");
    EXPECT_EQ(address_of("[::1]:80"), "[::1]");
    EXPECT_EQ(address_of("::1"), "::1");
    EXPECT_EQ(address_of("client-3"), "client-3");
}

TEST(ConnectionSlots, TakesUpToTheLimitAndGivesBack) {
    ConnectionSlots slots(2);
    EXPECT_EQ(slots.try_take(), SlotsFull::no);
    EXPECT_EQ(slots.try_take(), SlotsFull::no);
    EXPECT_EQ(slots.try_take(), SlotsFull::server);
    slots.release();
    EXPECT_EQ(slots.try_take(), SlotsFull::no);
    EXPECT_EQ(slots.active(), 2u);
}

}  // namespace
}  // namespace ferry
