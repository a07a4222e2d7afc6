#include "ferry/protocol/buffered_reader.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

namespace ferry {

std::size_t BufferedReader::recv(std::span<std::byte> buffer, CallSite where) {
    if (buffer.empty())
        return 0;
    if (begin_ == end_)
        return conn_.recv(buffer, where);
    const std::size_t n = std::min(buffer.size(), end_ - begin_);
    std::memcpy(buffer.data(), bytes_.data() + begin_, n);
    begin_ += n;
    return n;
}

std::size_t BufferedReader::recv_more(CallSite where) {
    if (begin_ == end_) {
        begin_ = 0;
        end_ = 0;
    } else if (end_ == bytes_.size()) {
        std::memmove(bytes_.data(), bytes_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    const std::size_t got = conn_.recv(std::span(bytes_).subspan(end_), where);
    end_ += got;
    return got;
}

bool BufferedReader::fill(CallSite where) {
    return begin_ != end_ || recv_more(where) != 0;
}

std::optional<std::string> BufferedReader::recv_line(std::size_t max_bytes, CallSite where) {
    std::string line;
    if (!recv_line_into(line, max_bytes, where))
        return std::nullopt;
    return line;
}

bool BufferedReader::recv_line_into(std::string& line, std::size_t max_bytes, CallSite where) {
    line.clear();
    max_bytes = std::min(max_bytes, bytes_.size());  // the buffer holds a whole line
    std::size_t searched = 0;                        // bytes after begin_ known to hold no '\n'
    while (true) {
        const std::byte* first = bytes_.data() + begin_;
        const std::byte* last = bytes_.data() + end_;
        const std::byte* newline = std::find(first + searched, last, std::byte{'\n'});
        const auto line_bytes = static_cast<std::size_t>(newline - first);
        // With its '\n' the line needs one byte more than it has so far.
        if (line_bytes >= max_bytes) {
            throw ProtocolError(
                fmt::format("line from {} is longer than {} bytes", conn_.peer_name(), max_bytes));
        }
        if (newline != last) {
            line.assign(reinterpret_cast<const char*>(first), line_bytes);
            begin_ += line_bytes + 1;
            return true;
        }
        searched = line_bytes;
        if (recv_more(where) == 0) {
            if (searched == 0)
                return false;
            throw ProtocolError(
                fmt::format("{} ended the stream in the middle of a line", conn_.peer_name()));
        }
    }
}

}  // namespace ferry
