#pragma once
// Bytes that hold the simulator's generated payloads as their stream instead
// of their bytes, so a simulated gigabyte costs a few words of memory.
//
// A generated stream is splitmix64 from a state: word i (bytes [8i, 8i+8),
// in the machine's byte order) is splitmix64_mix(state + (i + 1) * gamma).
// The mix is a bijection, so the first word of a stream names its state, and
// the second confirms it: appending bytes that start such a stream at offset
// 0 and go on with it is recognised, and those bytes are kept as a range of
// the stream. Bytes that differ from the stream (a bug's torn or shifted
// write, a literal file) are kept as they are, so nothing is lost: only the
// representation changes, never what read() returns.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::sim {

/// Bytes [position, position + out.size()) of the generated stream of state.
void fill_generated(std::uint64_t state, std::uint64_t position, std::span<std::byte> out);

/// The state whose stream starts with these 16 bytes, if one does.
std::optional<std::uint64_t> generated_state_of(std::span<const std::byte> first_16_bytes);

class CompactBytes {
  public:
    CompactBytes() = default;
    explicit CompactBytes(std::span<const std::byte> bytes) { append(bytes); }
    explicit CompactBytes(std::string_view text);
    /// The first size bytes of state's stream, held as the stream.
    static CompactBytes generated(std::uint64_t state, std::uint64_t size);

    std::uint64_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    /// Bytes held as themselves (the rest are ranges of a stream or zeros).
    std::uint64_t literal_bytes() const;

    /// Appends bytes, as a range of the stream where they continue it.
    void append(std::span<const std::byte> bytes);
    void append(std::string_view text);
    void append_zeros(std::uint64_t count);
    void truncate(std::uint64_t size);
    /// The first size bytes (all of them if there are fewer).
    CompactBytes prefix(std::uint64_t size) const;

    /// Copies up to out.size() bytes from offset; returns how many.
    std::size_t read(std::uint64_t offset, std::span<std::byte> out) const;
    /// Calls visit(std::span<const std::byte>) on the bytes in order, in
    /// pieces of at most 64 KiB; generated ones are made in a small buffer.
    template <typename Visit>
    void for_each_piece(Visit&& visit) const;

    std::string to_string() const;
    std::vector<std::byte> to_vector() const;

    friend bool operator==(const CompactBytes& a, const CompactBytes& b);

    /// The state of the stream these bytes are the start of, when they are
    /// exactly that: one generated range from the stream's first byte.
    std::optional<std::uint64_t> whole_stream_state() const;

  private:
    enum class Kind : std::uint8_t { literal, generated, zeros };
    struct Run {
        std::uint64_t start = 0;  ///< offset of its first byte
        std::uint64_t length = 0;
        Kind kind = Kind::literal;
        std::vector<std::byte> bytes;  ///< literal only
        std::uint64_t end() const { return start + length; }
    };

    void append_run(Kind kind, std::span<const std::byte> bytes, std::uint64_t length);
    /// How many of bytes continue the stream at size_ (0 with no stream).
    std::size_t stream_prefix(std::span<const std::byte> bytes) const;
    void recognise_stream();
    std::size_t run_at(std::uint64_t offset) const;
    bool same_stream_run(std::size_t run, const CompactBytes& other, std::size_t other_run) const;

    std::vector<Run> runs_;
    std::uint64_t size_ = 0;
    std::optional<std::uint64_t> state_;  ///< the stream its generated runs are of
    bool looked_for_stream_ = false;
};

/// ferry/1's digest of the bytes (protocol/digest.h), a piece at a time.
std::string digest_of(const CompactBytes& bytes);

template <typename Visit>
void CompactBytes::for_each_piece(Visit&& visit) const {
    std::vector<std::byte> buffer;
    for (const Run& run : runs_) {
        for (std::uint64_t done = 0; done < run.length;) {
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(run.length - done, 64 * 1024));
            if (run.kind == Kind::literal) {
                visit(std::span<const std::byte>(run.bytes).subspan(done, n));
            } else {
                buffer.resize(n);
                read(run.start + done, buffer);
                visit(std::span<const std::byte>(buffer));
            }
            done += n;
        }
    }
}

}  // namespace ferry::sim
