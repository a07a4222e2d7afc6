#include "ferry/workloads/ferry_draw.h"

#include <algorithm>
#include <array>
#include <set>

#include <fmt/core.h>

#include "ferry/harness/edge_sizes.h"
#include "ferry/protocol/buffered_reader.h"
#include "ferry/protocol/ferry_wire.h"

namespace ferry::workloads {

namespace {

using namespace harness;
using sim::DecisionSource;

/// Names clients share, so they collide.
constexpr std::array<std::string_view, 3> shared_names = {"a.bin", "b.txt", "c"};
/// What a file the server has before the run holds.
constexpr std::string_view preloaded_content = "preloaded";

/// The length of a checked PUT line for a.bin with a body of size bytes:
/// "PUT a.bin <size> <32-digit digest> ~<8-digit check>\n".
std::uint64_t put_line_bytes(std::uint64_t size) {
    std::uint64_t digits = 1;
    for (std::uint64_t rest = size; rest >= 10; rest /= 10)
        ++digits;
    return std::string_view("PUT a.bin  ").size() + digits + 32 + 2 + 8 + 1;
}

/// A name at an edge of ferry/1's rules: length 255 and 256, a leading dot or
/// dash (a dash is fine further in), separators, bytes just outside the
/// allowed classes.
std::string edge_name(DecisionSource& source) {
    static const std::array<std::string, 16> names = {std::string(255, 'n'),
                                                      std::string(256, 'n'),
                                                      ".hidden",
                                                      "..",
                                                      "a/b",
                                                      "a\\b",
                                                      std::string("a\x7f"),
                                                      std::string("a\x80"),
                                                      "a~",
                                                      "a:b",
                                                      "x.",
                                                      "-a",
                                                      "a-",
                                                      "Z_9-.x",
                                                      "a\tb",
                                                      "\xc3\xa9"};
    return names[source.choose(names.size())];
}

/// A malformed request line and the ERR code docs/protocol.md gives it.
std::pair<std::string, std::uint64_t> malformed_line(DecisionSource& source) {
    const std::string digest(32, 'a');
    static const std::array<std::pair<std::string, std::uint64_t>, 24> lines = {{
        {"PUT a.bin +5 " + digest, 400},
        {"PUT a.bin 05 " + digest, 400},
        {"PUT a.bin 5x " + digest, 400},
        {"PUT a.bin -5 " + digest, 400},
        {"PUT a.bin 18446744073709551616 " + digest, 400},
        {"PUT a.bin 5 " + std::string(32, 'A'), 400},
        {"PUT a.bin 5 " + std::string(31, 'a'), 400},
        {"PUT a.bin", 400},
        {"GET", 400},
        {"GET a.bin b", 400},
        {"GET  a.bin", 400},
        {" DIR", 400},
        {"DIR ", 400},
        {"DIR x", 400},
        {"dir", 400},
        {"FETCH a.bin", 400},
        {"", 400},
        {"GET ../etc/passwd", 403},
        {"GET .hidden", 403},
        {"GET a/b", 403},
        {"GET " + std::string(256, 'n'), 403},
        {"GET " + std::string(255, 'q'), 404},
        {"GET a\x7f", 403},
        {std::string(header_line_bytes_max + 80, 'x'), 400},
    }};
    return lines[source.choose(lines.size())];
}

Operation named(std::string verb, std::string name) {
    return Operation{std::move(verb), {{"name", std::move(name)}}, 0};
}

Operation draw_put(DecisionSource& source, const std::vector<std::uint64_t>& edges,
                   std::uint64_t size_max, std::string name) {
    Operation op = named("put", std::move(name));
    op.params.push_back({"size", draw_size(source, edges, size_max)});
    if (source.choose(2) == 0)
        op.params.push_back({"streamed", true});  // PUTS, or PUT after an old server's 400
    return op;
}

/// A frame line docs/protocol.md answers with 400: a length that is not
/// canonical, 0 or past the largest frame, a malformed trailer, or a line
/// failing its check.
std::string bad_frame_line(DecisionSource& source) {
    const std::string digest(32, 'a');
    static const std::array<std::string, 16> lines = {
        "0",
        "00",
        "01",
        "+1",
        "-1",
        std::to_string(stream_frame_bytes_max + 1),
        "18446744073709551616",
        "1 1",
        "x",
        "",
        "END",
        "END 1",
        "END 01 " + digest,
        "END 1 " + std::string(32, 'A'),
        // Lines that would be fine but for a check that fails: a server that
        // skips the check takes the length, or commits an empty upload.
        "3 ~00000000",
        "END 0 99aa06d3014798d86001c324468d497f ~00000000",
    };
    return lines[source.choose(lines.size())];
}

/// A streamed put the workload writes itself: a bad frame line first, or
/// frames of an edge size (1 byte, 3, the largest a frame may be when
/// --size-max lets a payload be that large: a mebibyte through the
/// simulator's tiniest buffers outlasts a run's time budget).
Operation draw_framed(DecisionSource& source, Operation put, std::uint64_t size_max) {
    if (!find_param(put.params, "streamed"))
        put.params.push_back({"streamed", true});
    if (source.choose(3) != 0) {
        put.params.push_back({"frame_line", bad_frame_line(source)});
        return put;
    }
    static constexpr std::array<std::uint64_t, 3> frames = {1, 3, stream_frame_bytes_max};
    const bool largest_fits = size_max >= stream_frame_bytes_max + 2;
    const std::uint64_t frame = frames[source.choose(largest_fits ? frames.size() : 2)];
    if (frame == stream_frame_bytes_max) {  // one whole frame of the largest size, and more
        for (auto& [key, value] : put.params) {
            if (key == "size")
                value = stream_frame_bytes_max + source.between(0, 2);
        }
    }
    put.params.push_back({"frame", frame});
    return put;
}

/// A request no honest client makes.
Operation draw_dishonest(DecisionSource& source, const std::vector<std::uint64_t>& edges,
                         std::uint64_t size_max) {
    std::string name(shared_names[source.choose(shared_names.size())]);
    Operation put = draw_put(source, edges, size_max, name);
    const std::uint64_t size = count_param(put.params, "size", 0);
    switch (source.choose(9)) {
        case 0:
            put.params.push_back({"flip_digest", source.between(0, 31)});
            return put;
        case 1: {
            static constexpr std::array<std::int64_t, 4> deltas = {-1, 1, 100, -1000000};
            const std::int64_t delta = deltas[source.choose(deltas.size())];
            const auto declared = static_cast<std::int64_t>(size) + delta;
            put.params.push_back({"declare", std::uint64_t(std::max<std::int64_t>(declared, 0))});
            return put;
        }
        case 2:
            if (size > 0) {
                put.params.push_back({"cut", source.between(0, size - 1)});
                return put;
            }
            put.params.push_back({"flip_digest", source.between(0, 31)});
            return put;
        case 3: {
            static constexpr std::array<std::uint64_t, 4> gaps = {10, 200, 2000, 40000};
            Operation op = source.choose(2) == 0 ? put : named("get", name);
            op.params.push_back({"trickle_ms", gaps[source.choose(gaps.size())]});
            return op;
        }
        case 4: {
            static const std::array<std::string, 4> junk = {"GARBAGE", "FETCH x", "", "GET"};
            put.params.push_back({"junk", junk[source.choose(junk.size())]});
            return put;
        }
        case 5: {
            auto [line, code] = malformed_line(source);
            return Operation{"raw", {{"line", line}, {"expect_error", code}}, 0};
        }
        case 6:
            return draw_framed(source, put, size_max);
        default: {
            if (source.choose(2) != 0)
                return named("get", edge_name(source));
            Operation edge = draw_put(source, edges, size_max, edge_name(source));
            if (source.choose(3) == 0)  // written by the workload, which reads what follows
                edge.params.push_back(
                    {"frame", source.choose(2) == 0 ? std::uint64_t{1} : std::uint64_t{1000}});
            return edge;
        }
    }
}

}  // namespace

}  // namespace ferry::workloads

namespace ferry::workloads {

namespace {

/// One operation; a pipelining client's are honest PUT, GET and DIR only.
Operation draw_op(DecisionSource& source, const std::vector<std::uint64_t>& edges,
                  std::uint64_t size_max, bool pipelined) {
    const std::uint64_t kind = source.choose(10);
    if (kind >= 8 && !pipelined)
        return draw_dishonest(source, edges, size_max);
    const std::string name(shared_names[source.choose(shared_names.size())]);
    if (kind < 4)
        return draw_put(source, edges, size_max, name);
    Operation op = kind < 7 || kind >= 8 ? named("get", name) : Operation{"dir", {}, 0};
    if (source.choose(8) == 0)
        op.params.push_back({"unchecked", true});  // as typed by hand: the unchecked path
    return op;
}

ClientPlan draw_client(DecisionSource& source, const std::vector<std::uint64_t>& edges,
                       std::uint64_t size_max) {
    ClientPlan client;
    const bool pipelined = source.choose(5) == 0;
    if (pipelined)
        client.options.push_back({"pipeline", true});
    // A pipelining client sends more: several requests and replies in one
    // buffer, lines across the buffer's end.
    const std::uint64_t ops = pipelined ? source.between(2, 8) : source.between(1, 4);
    for (std::uint64_t i = 0; i < ops; ++i) {
        client.ops.push_back(draw_op(source, edges, size_max, pipelined));
        if (!pipelined && source.choose(12) == 0) {
            static constexpr std::array<std::uint64_t, 3> pauses = {50, 2000, 40000};
            client.ops.back().params.push_back({"pause_ms", pauses[source.choose(pauses.size())]});
        }
    }
    return client;
}

/// Server limits, sometimes right at the edge of what the clients do.
void draw_limits(DecisionSource& source, WorkloadCase& c) {
    std::vector<std::uint64_t> sizes;
    for (const ClientPlan& client : c.clients) {
        for (const Operation& op : client.ops) {
            if (op.verb == "put")
                sizes.push_back(count_param(op.params, "size", 0));
        }
    }
    if (!sizes.empty() && source.choose(4) == 0) {
        const std::uint64_t size = sizes[source.choose(sizes.size())];
        c.settings.push_back(
            {"max_bytes", std::max<std::uint64_t>(1, size + source.between(0, 2)) - 1});
    }
    if (c.clients.size() >= 2 && source.choose(5) == 0)
        c.settings.push_back({"max_connections", source.between(1, c.clients.size() - 1)});
    if (source.choose(6) == 0) {
        static constexpr std::array<std::uint64_t, 3> idle = {60, 300, 3000};
        static constexpr std::array<std::uint64_t, 3> header = {20, 100, 1000};
        const std::uint64_t idle_ms = idle[source.choose(idle.size())];
        c.settings.push_back({"idle_timeout_ms", idle_ms});
        c.settings.push_back(
            {"header_timeout_ms", std::min(idle_ms, header[source.choose(header.size())])});
    }
    if (source.choose(5) == 0)
        c.settings.push_back({"old_server", true});  // streamed puts fall back to PUT
    if (source.choose(8) == 0) {
        // A graceful shutdown from the start, early, mid-run, or late.
        const std::array<std::uint64_t, 4> drain_at = {0, source.between(1, 10),
                                                       source.between(11, 100), 1000};
        c.settings.push_back({"drain_at_ms", drain_at[source.choose(drain_at.size())]});
    }
}

/// Files on the server before the run, put there by other means: the store
/// keeps no digest for them, so the first GET of each hashes it and keeps one.
TextTable draw_preloaded(DecisionSource& source) {
    TextTable files;
    for (const std::string_view name : shared_names) {
        if (source.choose(2) == 0)
            files.emplace_back(std::string(name), std::string(preloaded_content));
    }
    if (files.empty())
        files.emplace_back(std::string(shared_names[1]), std::string(preloaded_content));
    return files;
}

/// A directory on the server under one of the shared names no file holds:
/// clients put, get and list that name as they would a file's.
std::optional<std::string> draw_directory(DecisionSource& source, const TextTable* files) {
    std::vector<std::string_view> free;
    for (const std::string_view name : shared_names) {
        const bool preloaded = files && std::any_of(files->begin(), files->end(),
                                                    [&](const auto& f) { return f.first == name; });
        if (!preloaded)
            free.push_back(name);
    }
    if (free.empty())
        return std::nullopt;
    return std::string(free[source.choose(free.size())]);
}

/// The race of a GET that keeps a digest with a PUT that replaces the file:
/// the first operation of one client GETs a preloaded file (the first GET of
/// it, so it hashes the file and keeps its digest), another's uploads a file
/// of the same size under its name (a digest of the wrong version would pass
/// for the right one), and often a second upload of that size races it. They
/// replace drawn operations rather than add to them: a run's cost is its
/// operations, and the end of every run checks the digests kept
/// (SimWorld::finish).
void draw_digest_race(DecisionSource& source, WorkloadCase& c, const TextTable& files) {
    const std::string name = files[source.choose(files.size())].first;
    const Operation put{
        "put", {{"name", name}, {"size", std::uint64_t{preloaded_content.size()}}}, 0};
    if (c.clients.size() < 2)
        c.clients.push_back(ClientPlan{{}, {put}});
    c.clients[0].ops.front() = named("get", name);
    c.clients[1].ops.front() = put;
    if (source.choose(2) == 0) {  // a second upload of that size races the first
        const bool third = c.clients.size() > 2;
        std::vector<Operation>& ops = c.clients[third ? 2 : 0].ops;
        const std::size_t at = third ? 0 : 1;
        if (ops.size() > at) {
            ops[at] = put;
        } else {
            ops.push_back(put);
        }
    }
}

}  // namespace

std::vector<std::uint64_t> ferry_edge_sizes(std::uint64_t chunk_bytes, std::uint64_t size_max) {
    std::set<std::uint64_t> sizes = chunk_edge_sizes(chunk_bytes, size_max);
    const std::uint64_t chunk = std::max<std::uint64_t>(chunk_bytes, 1);
    // The header line plus the body's first bytes fill the server's first
    // recv exactly, or one byte either side.
    for (std::uint64_t k = 1; k <= 4; ++k) {
        const std::uint64_t room = k * chunk;
        for (std::uint64_t size = room > 80 ? room - 80 : 0; size <= room; ++size) {
            if (size + put_line_bytes(size) == room)
                add_around(sizes, size, size_max);
        }
    }
    // A PUT whose line and body stop just short of the end of the server's
    // line buffer: the next request line lies across the buffer's end.
    for (const std::uint64_t short_by : {1, 20, 40}) {
        const std::uint64_t room = BufferedReader::capacity_bytes - short_by;
        for (std::uint64_t size = room > 80 ? room - 80 : 0; size <= room; ++size) {
            if (size + put_line_bytes(size) == room && size <= size_max)
                sizes.insert(size);
        }
    }
    add_around(sizes, header_line_bytes_max, size_max);
    return {sizes.begin(), sizes.end()};
}

WorkloadCase draw_ferry_case(DecisionSource& source, const DrawOptions& options) {
    // The same edges for every case of an exploration: worked out once.
    thread_local std::pair<std::uint64_t, std::uint64_t> edges_for{0, 0};
    thread_local std::vector<std::uint64_t> edges;
    const std::pair<std::uint64_t, std::uint64_t> wanted{options.chunk_bytes, options.size_max};
    if (edges.empty() || edges_for != wanted) {
        edges = ferry_edge_sizes(options.chunk_bytes, options.size_max);
        edges_for = wanted;
    }
    WorkloadCase c;
    // Mostly the explored chunk size, sometimes one far from it: reads of a
    // whole body at once, or many small ones, take other paths through the
    // buffered reader.
    static constexpr std::array<std::uint64_t, 3> other_chunks = {64, 4096, 65536};
    const std::uint64_t chunk = source.choose(8) == 0
                                    ? other_chunks[source.choose(other_chunks.size())]
                                    : std::uint64_t{options.chunk_bytes};
    c.settings.push_back({"chunk_size", chunk});
    const std::uint64_t clients = source.between(1, 3);
    for (std::uint64_t i = 0; i < clients; ++i)
        c.clients.push_back(draw_client(source, edges, options.size_max));
    if (source.choose(4) == 0) {
        const TextTable files = draw_preloaded(source);
        if (source.choose(2) == 0)
            draw_digest_race(source, c, files);
        c.settings.push_back({"files", files});
    }
    if (source.choose(8) == 0) {
        if (auto directory = draw_directory(source, table_param(c.settings, "files")))
            c.settings.push_back({"directory", std::move(*directory)});
    }
    draw_limits(source, c);
    return c;
}

}  // namespace ferry::workloads
