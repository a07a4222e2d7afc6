#include "ferry/sim/compact_bytes.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

#include "ferry/protocol/digest.h"
#include "ferry/sim/decisions.h"

namespace ferry::sim {

namespace {

/// x86-64 gets AVX-512 and AVX2 clones of the generator, chosen at load time
/// by what the CPU has (the same bytes either way; AVX-512 has the 64-bit
/// multiply the mix needs).
#if defined(__x86_64__)
#define FERRY_AVX2_CLONE __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define FERRY_AVX2_CLONE
#endif

/// count words of the stream from word first on. Word i is
/// mix(state + (i + 1)·gamma), independent of the others, so the loop
/// vectorises.
FERRY_AVX2_CLONE void fill_words(std::uint64_t state, std::uint64_t first, std::byte* out,
                                 std::size_t count) {
    // Blocks of a fixed 8 words: GCC's -O2 vectorises a loop whose trip
    // count it knows (4x faster with AVX-512's 64-bit multiply).
    constexpr std::size_t block = 8;
    std::uint64_t base = state + first * splitmix64_gamma;
    std::size_t i = 0;
    for (; i + block <= count; i += block) {
        std::uint64_t words[block];
        for (std::size_t j = 0; j < block; ++j)
            words[j] = splitmix64_mix(base + (j + 1) * splitmix64_gamma);
        std::memcpy(out + i * 8, words, sizeof words);
        base += block * splitmix64_gamma;
    }
    for (std::size_t j = 0; i < count; ++i, ++j) {
        const std::uint64_t word = splitmix64_mix(base + (j + 1) * splitmix64_gamma);
        std::memcpy(out + i * 8, &word, sizeof word);
    }
}

std::uint64_t word_at(std::uint64_t state, std::uint64_t index) {
    return splitmix64_mix(state + (index + 1) * splitmix64_gamma);
}

/// The inverse of a * x mod 2^64 for odd a (Newton's iteration doubles the
/// correct low bits: 3, 6, 12, 24, 48, 96).
constexpr std::uint64_t inverse_of(std::uint64_t a) {
    std::uint64_t x = a;
    for (int i = 0; i < 5; ++i)
        x *= 2 - a * x;
    return x;
}

/// The inverse of y = x ^ (x >> shift).
constexpr std::uint64_t unshift(std::uint64_t y, int shift) {
    std::uint64_t x = y;
    for (int done = shift; done < 64; done += shift)
        x = y ^ (x >> shift);
    return x;
}

/// The inverse of splitmix64_mix.
constexpr std::uint64_t unmix(std::uint64_t z) {
    z = unshift(z, 31) * inverse_of(0x94d049bb133111ebULL);
    z = unshift(z, 27) * inverse_of(0xbf58476d1ce4e5b9ULL);
    return unshift(z, 30);
}

static_assert(inverse_of(0xbf58476d1ce4e5b9ULL) * 0xbf58476d1ce4e5b9ULL == 1);

/// Compared a block at a time, on the caller's stack: a fiber's, kept small
/// (every page of a fiber's stack it touches stays resident while it lives).
constexpr std::size_t block_bytes = 512;
/// After bytes that differ from the stream, where it is tried again.
constexpr std::size_t resync_bytes = 512;

}  // namespace

void fill_generated(std::uint64_t state, std::uint64_t position, std::span<std::byte> out) {
    std::size_t done = 0;
    auto partial_word = [&](std::uint64_t at) {
        const std::uint64_t word = word_at(state, at / 8);
        const std::size_t skip = at % 8;
        const std::size_t n = std::min<std::size_t>(8 - skip, out.size() - done);
        std::memcpy(out.data() + done, reinterpret_cast<const std::byte*>(&word) + skip, n);
        done += n;
    };
    if (position % 8 != 0 && !out.empty())
        partial_word(position);
    const std::size_t words = (out.size() - done) / 8;
    fill_words(state, (position + done) / 8, out.data() + done, words);
    done += words * 8;
    if (done < out.size())
        partial_word(position + done);
}

std::optional<std::uint64_t> generated_state_of(std::span<const std::byte> first_16_bytes) {
    if (first_16_bytes.size() < 16)
        return std::nullopt;
    std::uint64_t first = 0;
    std::uint64_t second = 0;
    std::memcpy(&first, first_16_bytes.data(), 8);
    std::memcpy(&second, first_16_bytes.data() + 8, 8);
    const std::uint64_t state = unmix(first) - splitmix64_gamma;
    assert(word_at(state, 0) == first);
    if (word_at(state, 1) != second)
        return std::nullopt;
    return state;
}

CompactBytes::CompactBytes(std::string_view text) {
    append(text);
}

CompactBytes CompactBytes::generated(std::uint64_t state, std::uint64_t size) {
    CompactBytes bytes;
    bytes.state_ = state;
    bytes.looked_for_stream_ = true;
    if (size > 0)
        bytes.append_run(Kind::generated, {}, size);
    return bytes;
}

std::uint64_t CompactBytes::literal_bytes() const {
    std::uint64_t n = 0;
    for (const Run& run : runs_)
        n += run.kind == Kind::literal ? run.length : 0;
    return n;
}

void CompactBytes::append(std::string_view text) {
    append(std::as_bytes(std::span(text.data(), text.size())));
}

void CompactBytes::append(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        if (!looked_for_stream_ && size_ < 16) {
            // Literal until the first 16 bytes are in: then, is it a stream?
            const std::size_t take =
                std::min<std::size_t>(bytes.size(), static_cast<std::size_t>(16 - size_));
            append_run(Kind::literal, bytes.first(take), take);
            bytes = bytes.subspan(take);
            if (size_ == 16)
                recognise_stream();
            continue;
        }
        looked_for_stream_ = true;
        const std::size_t generated = stream_prefix(bytes);
        if (generated > 0) {
            append_run(Kind::generated, {}, generated);
            bytes = bytes.subspan(generated);
            continue;
        }
        // Literal up to where the stream may take over again, so one wrong
        // byte costs at most a resync block.
        std::size_t literal = bytes.size();
        if (state_)
            literal = std::min<std::size_t>(
                literal, resync_bytes - static_cast<std::size_t>(size_ % resync_bytes));
        append_run(Kind::literal, bytes.first(literal), literal);
        bytes = bytes.subspan(literal);
    }
}

void CompactBytes::append_zeros(std::uint64_t count) {
    if (count > 0)
        append_run(Kind::zeros, {}, count);
}

void CompactBytes::append_run(Kind kind, std::span<const std::byte> bytes, std::uint64_t length) {
    if (length == 0)
        return;
    if (!runs_.empty() && runs_.back().kind == kind) {
        Run& last = runs_.back();
        last.length += length;
        if (kind == Kind::literal)
            last.bytes.insert(last.bytes.end(), bytes.begin(), bytes.end());
    } else {
        Run run{size_, length, kind, {}};
        if (kind == Kind::literal)
            run.bytes.assign(bytes.begin(), bytes.end());
        runs_.push_back(std::move(run));
    }
    size_ += length;
}

std::size_t CompactBytes::stream_prefix(std::span<const std::byte> bytes) const {
    if (!state_)
        return 0;
    std::array<std::byte, block_bytes> expected{};
    std::size_t same = 0;
    // A small first block: after a difference, most tries fail at once.
    std::size_t block = 64;
    while (same < bytes.size()) {
        const std::size_t n = std::min(block, bytes.size() - same);
        fill_generated(*state_, size_ + same, std::span(expected).first(n));
        if (std::memcmp(expected.data(), bytes.data() + same, n) != 0) {
            std::size_t i = 0;
            while (expected[i] == bytes[same + i])
                ++i;
            return same + i;
        }
        same += n;
        block = block_bytes;
    }
    return same;
}

void CompactBytes::recognise_stream() {
    looked_for_stream_ = true;
    std::array<std::byte, 16> first{};
    if (read(0, first) != first.size())
        return;
    const std::optional<std::uint64_t> state = generated_state_of(first);
    if (!state)
        return;
    // The first 16 bytes came in before the check: they become the
    // stream's first range.
    assert(size_ == 16);
    runs_.clear();
    size_ = 0;
    state_ = state;
    append_run(Kind::generated, {}, 16);
}

void CompactBytes::truncate(std::uint64_t size) {
    if (size >= size_)
        return;
    const std::size_t keep = run_at(size);
    if (keep < runs_.size() && runs_[keep].start < size) {
        Run& run = runs_[keep];
        run.length = size - run.start;
        if (run.kind == Kind::literal)
            run.bytes.resize(static_cast<std::size_t>(run.length));
        runs_.resize(keep + 1);
    } else {
        runs_.resize(keep);
    }
    size_ = size;
    if (size_ == 0) {
        *this = CompactBytes();  // what comes next may be another stream
    } else if (size_ < 16 && !state_) {
        looked_for_stream_ = false;  // the first 16 bytes may yet name a stream
    }
}

CompactBytes CompactBytes::prefix(std::uint64_t size) const {
    CompactBytes copy = *this;
    copy.truncate(size);
    return copy;
}

std::size_t CompactBytes::run_at(std::uint64_t offset) const {
    const auto it =
        std::upper_bound(runs_.begin(), runs_.end(), offset,
                         [](std::uint64_t at, const Run& run) { return at < run.start; });
    return it == runs_.begin() ? 0 : static_cast<std::size_t>(it - runs_.begin()) - 1;
}

std::size_t CompactBytes::read(std::uint64_t offset, std::span<std::byte> out) const {
    if (offset >= size_)
        return 0;
    const std::size_t total =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), size_ - offset));
    std::size_t done = 0;
    for (std::size_t r = run_at(offset); done < total; ++r) {
        const Run& run = runs_[r];
        const std::uint64_t at = offset + done;
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(total - done, run.end() - at));
        const std::span<std::byte> to = out.subspan(done, n);
        switch (run.kind) {
            case Kind::literal:
                std::memcpy(to.data(), run.bytes.data() + (at - run.start), n);
                break;
            case Kind::generated:
                fill_generated(*state_, at, to);
                break;
            case Kind::zeros:
                std::fill(to.begin(), to.end(), std::byte{0});
                break;
        }
        done += n;
    }
    return total;
}

std::string CompactBytes::to_string() const {
    std::string text(static_cast<std::size_t>(size_), '\0');
    read(0, std::as_writable_bytes(std::span(text.data(), text.size())));
    return text;
}

std::vector<std::byte> CompactBytes::to_vector() const {
    std::vector<std::byte> bytes(static_cast<std::size_t>(size_));
    read(0, bytes);
    return bytes;
}

bool CompactBytes::same_stream_run(std::size_t run, const CompactBytes& other,
                                   std::size_t other_run) const {
    return runs_[run].kind == Kind::generated && other.runs_[other_run].kind == Kind::generated &&
           state_ == other.state_;
}

bool operator==(const CompactBytes& a, const CompactBytes& b) {
    if (a.size_ != b.size_)
        return false;
    const auto buffer_bytes = static_cast<std::size_t>(std::min<std::uint64_t>(a.size_, 64 * 1024));
    std::vector<std::byte> left(buffer_bytes);
    std::vector<std::byte> right(buffer_bytes);
    for (std::uint64_t at = 0; at < a.size_;) {
        const std::size_t ra = a.run_at(at);
        const std::size_t rb = b.run_at(at);
        const std::uint64_t end = std::min(a.runs_[ra].end(), b.runs_[rb].end());
        if (a.same_stream_run(ra, b, rb)) {
            at = end;  // the same range of the same stream
            continue;
        }
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(end - at, left.size()));
        a.read(at, std::span(left).first(n));
        b.read(at, std::span(right).first(n));
        if (std::memcmp(left.data(), right.data(), n) != 0)
            return false;
        at += n;
    }
    return true;
}

namespace {

/// The digests of whole generated streams lately hashed on this thread. A run
/// hashes each client's payload once, then its end checks hash the same
/// stream again where the disk holds it: of a large payload, the second pass
/// is this cache's. A pure function's cache, so what digest_of returns never
/// depends on what is in it; small streams are left out (they hash faster
/// than they would evict a large one).
struct StreamDigest {
    std::uint64_t state = 0;
    std::uint64_t size = 0;
    std::string hex;
};
constexpr std::uint64_t stream_digest_bytes_min = 64 * 1024;
thread_local std::array<StreamDigest, 8> recent_stream_digests;
thread_local std::size_t next_stream_digest = 0;

std::string hash_pieces(const CompactBytes& bytes) {
    Digest digest;
    bytes.for_each_piece([&](std::span<const std::byte> piece) { digest.update(piece); });
    return digest.hex();
}

}  // namespace

std::optional<std::uint64_t> CompactBytes::whole_stream_state() const {
    if (runs_.size() == 1 && runs_.front().kind == Kind::generated && runs_.front().start == 0)
        return state_;
    return std::nullopt;
}

std::string digest_of(const CompactBytes& bytes) {
    const std::optional<std::uint64_t> state = bytes.whole_stream_state();
    if (!state || bytes.size() < stream_digest_bytes_min)
        return hash_pieces(bytes);
    for (const StreamDigest& known : recent_stream_digests) {
        if (known.size == bytes.size() && known.state == *state)
            return known.hex;
    }
    StreamDigest& slot = recent_stream_digests[next_stream_digest];
    next_stream_digest = (next_stream_digest + 1) % recent_stream_digests.size();
    slot = StreamDigest{*state, bytes.size(), hash_pieces(bytes)};
    return slot.hex;
}

}  // namespace ferry::sim
