// Annotations (ferry::annotate from protocol code) appear in the views: a
// note on its process's lane in the sequence diagram and an instant event on
// its process's track in the Perfetto timeline. (A classic pcap has no place
// for them: pcapng comments would be one, and ferry writes plain pcap.)

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ferry/protocol/annotation.h"
#include "ferry/protocol/connection.h"
#include "ferry/sim/recording.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "ferry/sim/simulation.h"
#include "ferry/views/perfetto.h"
#include "ferry/views/sequence_svg.h"

namespace ferry::views_test {
namespace {

/// A server that notes each step and a client that never sends: a deadlock.
void record_annotated_deadlock(sim::Recording& recording) {
    sim::Simulation sim({});
    sim.trace().record_into(&recording);
    sim.spawn("server", [&sim] {
        auto listener = sim.network().listen("server:1");
        auto conn = listener->accept();
        annotate("waiting for the request");
        recv_line(*conn, 100);
    });
    sim.spawn("client", [&sim] {
        auto conn = sim.network().connect("server:1");
        recv_line(*conn, 100);
    });
    const sim::SimResult result = sim.run();
    ASSERT_EQ(result.status, sim::RunStatus::deadlock);
    recording.finish(sim.trace(), sim.process_count(), result);
    sim.trace().record_into(nullptr);
}

TEST(AnnotationViews, TheSequenceDiagramShowsANoteOnTheLane) {
    sim::Recording recording;
    record_annotated_deadlock(recording);
    const std::string svg = views::sequence_svg_of(recording);
    EXPECT_NE(svg.find("class=\"note\""), std::string::npos);
    EXPECT_NE(svg.find("note: waiting for the request"), std::string::npos) << svg;
}

TEST(AnnotationViews, TheTimelineShowsAnInstantOnTheProcessTrack) {
    sim::Recording recording;
    record_annotated_deadlock(recording);
    const auto json = nlohmann::json::parse(views::perfetto_json_of(recording));
    bool found = false;
    for (const auto& event : json.at("traceEvents")) {
        if (event.value("name", "") != "waiting for the request")
            continue;
        found = true;
        EXPECT_EQ(event.at("ph"), "i");
        EXPECT_EQ(event.at("cat"), "note");
        EXPECT_EQ(event.at("pid"), 2);  // the server: process 1, after the network
    }
    EXPECT_TRUE(found);
}

}  // namespace
}  // namespace ferry::views_test
