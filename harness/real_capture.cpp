#include "ferry/harness/real_capture.h"

#include <algorithm>
#include <chrono>

#include "ferry/sim/trace.h"

namespace ferry::harness {

namespace {

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

class RealCapture::EndTap final : public WireTap {
  public:
    EndTap(RealCapture& capture, std::uint64_t conn, sim::Side side)
        : capture_(capture), conn_(conn), side_(sim::index_of(side)) {}

    void sent(std::span<const std::byte> bytes) override {
        capture_.add(
            {capture_.now_ns(), conn_, side_, What::data, "", {bytes.begin(), bytes.end()}});
    }
    void finished_sending() override {
        capture_.add({capture_.now_ns(), conn_, side_, What::fin, "", {}});
    }
    void reset() override { capture_.add({capture_.now_ns(), conn_, side_, What::rst, "", {}}); }

  private:
    RealCapture& capture_;
    std::uint64_t conn_;
    std::uint64_t side_;
};

RealCapture::RealCapture() : began_ns_(steady_ns()) {}

std::uint64_t RealCapture::now_ns() const {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, steady_ns() - began_ns_));
}

void RealCapture::add(Crossing crossing) {
    std::lock_guard lock(mutex_);
    crossings_.push_back(std::move(crossing));
}

std::unique_ptr<WireTap> RealCapture::tap(sim::Side side, std::uint16_t client_port,
                                          const std::string& address) {
    std::lock_guard lock(mutex_);
    auto it = std::find(client_ports_.begin(), client_ports_.end(), client_port);
    std::uint64_t conn = static_cast<std::uint64_t>(it - client_ports_.begin()) + 1;
    if (it == client_ports_.end()) {
        client_ports_.push_back(client_port);
        conn = client_ports_.size();
        crossings_.push_back({now_ns(), conn, 0, What::opened, address, {}});
    }
    return std::make_unique<EndTap>(*this, conn, side);
}

void RealCapture::fill(sim::Recording& recording) const {
    std::lock_guard lock(mutex_);
    sim::Trace texts;  // interns the addresses and names the two processes
    texts.name_process(1, "client");
    texts.name_process(2, "server");
    std::uint64_t end_ns = 0;
    for (const Crossing& c : crossings_) {
        end_ns = std::max(end_ns, c.time_ns);
        const std::uint64_t process = c.side + 1;
        switch (c.what) {
            case What::opened:
                recording.add_event(
                    {c.time_ns, sim::TraceKind::connect, 1, c.conn, 0, texts.intern(c.address), 0});
                // A nanosecond later: in a pcap the handshake's SYN-ACK and
                // ACK go first among the packets of one instant.
                recording.add_event(
                    {c.time_ns + 1, sim::TraceKind::established, 0, c.conn, 0, 0, 0});
                break;
            case What::data: {
                const auto room = recording.add_segment_bytes(c.bytes.size());
                std::copy(c.bytes.begin(), c.bytes.end(), room.begin());
                recording.add_event({c.time_ns, sim::TraceKind::segment, 0, c.conn, c.side,
                                     c.bytes.size(), c.time_ns});
                break;
            }
            case What::fin:
                recording.add_event(
                    {c.time_ns, sim::TraceKind::fin, process, c.conn, c.side, 0, 0});
                break;
            case What::rst:  // the trace's rst names the side it reached
                recording.add_event({c.time_ns, sim::TraceKind::rst, 0, c.conn, 1 - c.side, 0, 0});
                break;
        }
    }
    sim::SimResult result;
    result.end_time = Instant{} + std::chrono::nanoseconds(end_ns);
    recording.finish(texts, 2, result);
}

}  // namespace ferry::harness
