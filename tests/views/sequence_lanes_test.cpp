// The sequence diagram has one lane per connection end a process holds (and
// one for a process that holds none): a process talking on two connections
// gets two lanes, and a handler handed a connection by an accept loop holds
// its end, while the accept loop keeps a lane of its own.

#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ferry/protocol/connection.h"
#include "ferry/sim/recording.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "ferry/sim/simulation.h"
#include "ferry/views/sequence_svg.h"

namespace ferry::views_test {
namespace {

/// Each lane's two header lines, "name / end", in order.
std::vector<std::string> lane_headers(const std::string& svg) {
    // A lane's header: its name in a title text, then its end in a plain one.
    const std::regex header(
        R"re(<text class="title" x="(\d+)" y="46"[^>]*>([^<]*)</text>\n<text class="" x="\1" y="62"[^>]*>([^<]*)</text>)re");
    std::vector<std::string> headers;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), header);
         it != std::sregex_iterator(); ++it)
        headers.push_back((*it)[2].str() + " / " + (*it)[3].str());
    return headers;
}

TEST(SequenceLanes, OneLanePerConnectionEndAProcessHolds) {
    sim::Recording recording;
    sim::Simulation sim({});
    sim.trace().record_into(&recording);
    for (const char* address : {"a:1", "b:1"}) {
        sim.spawn(std::string("server ") + address, [&sim, address] {
            auto listener = sim.network().listen(address);
            auto conn = listener->accept();
            send_all(*conn, "hello\n");
        });
    }
    sim.spawn("proxy", [&sim] {
        auto a = sim.network().connect("a:1");
        auto b = sim.network().connect("b:1");
        recv_line(*a, 100);
        recv_line(*b, 100);
    });
    const sim::SimResult result = sim.run();
    ASSERT_EQ(result.status, sim::RunStatus::completed);
    recording.finish(sim.trace(), sim.process_count(), result);
    sim.trace().record_into(nullptr);
    const std::string svg = views::sequence_svg_of(recording);
    EXPECT_EQ(lane_headers(svg),
              (std::vector<std::string>{"server a:1 / conn 1 server", "server b:1 / conn 2 server",
                                        "proxy / conn 1 client", "proxy / conn 2 client"}))
        << svg;
}

TEST(SequenceLanes, AHandlerHoldsTheEndItsAcceptLoopHandedOver) {
    sim::Recording recording;
    sim::Simulation sim({});
    sim.trace().record_into(&recording);
    sim.spawn("acceptor", [&sim] {
        auto listener = sim.network().listen("server:1");
        std::shared_ptr<sim::SimConnection> conn = listener->accept();
        sim.spawn("handler", [conn] { send_all(*conn, "hello\n"); });
    });
    sim.spawn("client", [&sim] {
        auto conn = sim.network().connect("server:1");
        recv_line(*conn, 100);
    });
    const sim::SimResult result = sim.run();
    ASSERT_EQ(result.status, sim::RunStatus::completed);
    recording.finish(sim.trace(), sim.process_count(), result);
    sim.trace().record_into(nullptr);
    const std::string svg = views::sequence_svg_of(recording);
    EXPECT_EQ(lane_headers(svg), (std::vector<std::string>{"acceptor / ", "client / conn 1 client",
                                                           "handler / conn 1 server"}))
        << svg;
}

}  // namespace
}  // namespace ferry::views_test
