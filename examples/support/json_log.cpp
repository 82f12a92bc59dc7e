// SPDX-License-Identifier: MIT
#include "json_log.hpp"

#include <meetingbaas/core/timestamp.hpp>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

namespace support {

namespace {

std::string errno_text(int e)
{
    return std::string(std::strerror(e)) + " (errno " + std::to_string(e) + ")";
}

/// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s, std::size_t i) noexcept
{
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0u) != 0x80u) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3Fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0;
    }
    return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s, std::size_t max_bytes)
{
    constexpr char hex[] = "0123456789abcdef";
    const bool cut = s.size() > max_bytes;
    if (cut) s = s.substr(0, max_bytes);
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            switch (c) {
                case '"': out += "\\\""; break;
                case '\\': out += "\\\\"; break;
                case '\n': out += "\\n"; break;
                case '\r': out += "\\r"; break;
                case '\t': out += "\\t"; break;
                default:
                    if (c < 0x20 || c == 0x7f) {
                        out += "\\u00";
                        out += hex[c >> 4];
                        out += hex[c & 0xF];
                    } else {
                        out += static_cast<char>(c);
                    }
            }
            ++i;
            continue;
        }
        if (const auto n = utf8_sequence(s, i); n > 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\\ufffd";  // not UTF-8 (or a sequence cut by the limit)
            ++i;
        }
    }
    if (cut) out += "...";
    out += '"';
}

void log_value::append_to(std::string& out) const
{
    switch (kind_) {
        case kind::text: append_json_string(out, text_); break;
        case kind::signed_int: out += std::to_string(signed_); break;
        case kind::unsigned_int: out += std::to_string(unsigned_); break;
        case kind::boolean: out += unsigned_ != 0 ? "true" : "false"; break;
    }
}

std::string json_log::format(std::string_view event, std::initializer_list<log_field> fields)
{
    std::string line;
    line.reserve(256);
    line += "{\"ts\":\"";
    line += meetingbaas::format_timestamp(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()));
    line += "\",\"event\":";
    append_json_string(line, event);
    for (const auto& f : fields) {
        if (f.value.empty_text()) continue;  // left out
        line += ',';
        append_json_string(line, f.name);
        line += ':';
        f.value.append_to(line);
    }
    line += '}';
    return line;
}

meetingbaas::result<std::unique_ptr<json_log>, std::string> json_log::open(options o)
{
    int fd = STDOUT_FILENO;
    if (!o.path.empty()) {
        fd = ::open(o.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (fd < 0) return "cannot open the log file " + o.path + ": " + errno_text(errno);
    }
    return std::unique_ptr<json_log>(new json_log(std::move(o), fd));
}

json_log::json_log(options o, int fd) : options_(std::move(o)), fd_(fd)
{
    writer_ = std::thread([this] { writer_loop(); });
}

json_log::~json_log()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    writer_.join();
    flush();
    if (fd_ != STDOUT_FILENO) ::close(fd_);
}

void json_log::write(std::string_view event, std::initializer_list<log_field> fields)
{
    append(format(event, fields));
}

void json_log::write_now(std::string_view event, std::initializer_list<log_field> fields)
{
    append(format(event, fields));
    flush();
}

void json_log::append(std::string line)
{
    line += '\n';
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (pending_.size() + line.size() > options_.max_pending_bytes) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        // Wake the writer for the first line of a batch only (and when a batch grows large): under load
        // one write(2) carries many lines, and no request pays for waking a thread.
        wake = writer_idle_ && (pending_.empty() || pending_.size() >= batch_bytes);
        pending_ += line;
    }
    if (wake) wake_.notify_one();
}

void json_log::flush()
{
    std::lock_guard write_lock(write_mutex_);
    std::string out;
    {
        std::lock_guard lock(mutex_);
        out.swap(pending_);
    }
    write_out(out);
}

void json_log::writer_loop()
{
    std::string out;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            writer_idle_ = true;
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            // Gather the lines that follow within a few milliseconds into the same write.
            wake_.wait_for(lock, batch_delay, [this] { return stopping_ || pending_.size() >= batch_bytes; });
            writer_idle_ = false;
            if (pending_.empty()) {  // flush() took the batch
                if (stopping_) return;
                continue;
            }
        }
        std::lock_guard write_lock(write_mutex_);
        {
            std::lock_guard lock(mutex_);
            out.swap(pending_);
        }
        write_out(out);
        out.clear();
        if (out.capacity() > (std::size_t{1} << 20)) out.shrink_to_fit();
    }
}

void json_log::write_out(const std::string& bytes)
{
    const char* p = bytes.data();
    std::size_t left = bytes.size();
    while (left > 0) {
        const ssize_t n = ::write(fd_, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // the output is gone (closed pipe, full disk): logging must not stop the server
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

meetingbaas::result<void, std::string> json_log::reopen()
{
    if (options_.path.empty()) return {};
    const int fd = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        return meetingbaas::unexpected("cannot reopen the log file " + options_.path + ": " +
                                       errno_text(errno));
    }
    std::lock_guard write_lock(write_mutex_);
    // dup2 swaps the file under the same descriptor number, atomically for every writer.
    const int r = ::dup3(fd, fd_, O_CLOEXEC);
    const int e = errno;
    ::close(fd);
    if (r < 0)
        return meetingbaas::unexpected("cannot reopen the log file " + options_.path + ": " + errno_text(e));
    return {};
}

}  // namespace support
