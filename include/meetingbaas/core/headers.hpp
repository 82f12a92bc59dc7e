// SPDX-License-Identifier: MIT
#pragma once

// HTTP header collections without a framework dependency.
//
//  * http_headers: an owning, ordered list of (name, value) pairs with ASCII case-insensitive lookup.
//    Used for outgoing requests (api client) and by tests and servers that copy headers anyway.
//  * header_source: the concept the webhook verifier (authenticity.hpp) and other receivers accept:
//    anything with `find(name) -> std::optional<std::string_view>`. http_headers satisfies it, and so do
//    the two non-owning adapters below, so a server never has to copy its framework's headers:
//      - header_lookup<F>: wraps a callable `F(std::string_view name) -> std::optional<std::string_view>`;
//      - header_range_view<R>: scans any range of pair-like elements (`.first`, `.second` convertible to
//        std::string_view), e.g. httplib::Headers, std::vector<std::pair<std::string, std::string>>,
//        std::map<std::string, std::string>, a span of string_view pairs.
//  * header_view: a type-erased, non-owning reference to any header_source (two pointers), for
//    non-template code.

#include <meetingbaas/core/detail/ascii.hpp>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace meetingbaas::inline v0 {

/// Owning, ordered list of (name, value) pairs with ASCII case-insensitive lookup; duplicates allowed.
/// Names and values are stored as given (no case folding, no trimming).
class http_headers {
public:
    using value_type = std::pair<std::string, std::string>;
    using container_type = std::vector<value_type>;
    using const_iterator = container_type::const_iterator;
    using iterator = const_iterator;
    using size_type = std::size_t;

    http_headers() = default;
    http_headers(std::initializer_list<value_type> pairs) : fields_(pairs) {}

    /// Appends a field, keeping any existing fields with the same name.
    void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }

    /// Replaces every field named `name` (case-insensitive) by one field, at the position of the first
    /// match, or appends it when there was none.
    void set(std::string name, std::string value)
    {
        const auto first = std::find_if(fields_.begin(), fields_.end(), [&](const value_type& f) {
            return detail::ascii_iequals(f.first, name);
        });
        if (first == fields_.end()) {
            fields_.emplace_back(std::move(name), std::move(value));
            return;
        }
        first->first = std::move(name);
        first->second = std::move(value);
        const auto rest = std::remove_if(std::next(first), fields_.end(), [&](const value_type& f) {
            return detail::ascii_iequals(f.first, first->first);
        });
        fields_.erase(rest, fields_.end());
    }

    /// Removes every field named `name`; returns how many were removed.
    std::size_t erase(std::string_view name)
    {
        const auto before = fields_.size();
        std::erase_if(fields_, [&](const value_type& f) { return detail::ascii_iequals(f.first, name); });
        return before - fields_.size();
    }

    /// The value of the first field named `name` (ASCII case-insensitive), or nullopt. The view is valid
    /// until the headers are modified or destroyed.
    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept
    {
        for (const auto& [n, v] : fields_) {
            if (detail::ascii_iequals(n, name)) return std::string_view(v);
        }
        return std::nullopt;
    }

    /// Number of fields named `name`.
    [[nodiscard]] std::size_t count(std::string_view name) const noexcept
    {
        return static_cast<std::size_t>(
            std::count_if(fields_.begin(), fields_.end(),
                          [&](const value_type& f) { return detail::ascii_iequals(f.first, name); }));
    }

    /// Every value of the fields named `name`, in order (allocates the result vector only).
    [[nodiscard]] std::vector<std::string_view> find_all(std::string_view name) const
    {
        std::vector<std::string_view> out;
        for (const auto& [n, v] : fields_) {
            if (detail::ascii_iequals(n, name)) out.emplace_back(v);
        }
        return out;
    }

    [[nodiscard]] bool contains(std::string_view name) const noexcept { return find(name).has_value(); }
    [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
    [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
    void clear() noexcept { fields_.clear(); }
    void reserve(std::size_t n) { fields_.reserve(n); }

    [[nodiscard]] const_iterator begin() const noexcept { return fields_.begin(); }
    [[nodiscard]] const_iterator end() const noexcept { return fields_.end(); }

    /// Same fields in the same order, names compared case-insensitively and values exactly.
    friend bool operator==(const http_headers& a, const http_headers& b) noexcept
    {
        return std::equal(a.fields_.begin(), a.fields_.end(), b.fields_.begin(), b.fields_.end(),
                          [](const value_type& x, const value_type& y) {
                              return detail::ascii_iequals(x.first, y.first) && x.second == y.second;
                          });
    }

private:
    container_type fields_;
};

/// Anything the verifier can ask for a header by name.
/// Requirements: `h.find(name)` on a const H, with name a std::string_view, returns exactly
/// std::optional<std::string_view>: the value of the first field with that name compared ASCII
/// case-insensitively, or nullopt. The returned view stays valid while `h` is alive and unmodified.
/// (Exactly, not "convertible to": an std::optional<std::string> would convert, and dangle.)
template <class H>
concept header_source = requires(const H& h, std::string_view name) {
    { h.find(name) } -> std::same_as<std::optional<std::string_view>>;
};

/// Adapts a callable `F(std::string_view name) -> std::optional<std::string_view>` into a header_source.
/// The callable must perform the case-insensitive lookup itself (most frameworks already do) and return a
/// view into storage that outlives the verification. Owns the callable, which usually captures the
/// request by reference.
template <class F>
    requires std::invocable<const F&, std::string_view> &&
             std::same_as<std::invoke_result_t<const F&, std::string_view>, std::optional<std::string_view>>
class header_lookup {
public:
    constexpr explicit header_lookup(F f) noexcept(std::is_nothrow_move_constructible_v<F>) : f_(std::move(f))
    {}

    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const
        noexcept(std::is_nothrow_invocable_v<const F&, std::string_view>)
    {
        return f_(name);
    }

private:
    F f_;
};

template <class F>
header_lookup(F) -> header_lookup<F>;

namespace detail {
template <class E>
concept header_pair_like = requires(const E& e) {
    { std::string_view(e.first) };
    { std::string_view(e.second) };
};
}  // namespace detail

/// Non-owning header_source over a range of pair-like elements (`.first` is the name, `.second` the value),
/// scanned linearly with ASCII case-insensitive name comparison. The range must outlive the view.
template <std::ranges::forward_range R>
    requires detail::header_pair_like<std::ranges::range_value_t<R>>
class header_range_view {
public:
    constexpr explicit header_range_view(const R& range) noexcept : range_(std::addressof(range)) {}

    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const noexcept
    {
        for (const auto& field : *range_) {
            if (detail::ascii_iequals(std::string_view(field.first), name))
                return std::string_view(field.second);
        }
        return std::nullopt;
    }

private:
    const R* range_;
};

template <class R>
header_range_view(const R&) -> header_range_view<R>;

/// Type-erased, non-owning reference to a header_source: a pointer to the source and a pointer to a
/// lookup function. Cheap to copy; the source must outlive every use of the view. Satisfies header_source.
class header_view {
public:
    template <header_source H>
        requires(!std::same_as<std::remove_cvref_t<H>, header_view>)
    header_view(const H& source) noexcept  // NOLINT(google-explicit-constructor): a view converts implicitly
        : source_(std::addressof(source)),
          find_([](const void* s, std::string_view name) -> std::optional<std::string_view> {
              return static_cast<const H*>(s)->find(name);
          })
    {}

    [[nodiscard]] std::optional<std::string_view> find(std::string_view name) const
    {
        return find_(source_, name);
    }
    [[nodiscard]] bool contains(std::string_view name) const { return find(name).has_value(); }

private:
    const void* source_;
    std::optional<std::string_view> (*find_)(const void*, std::string_view);
};

static_assert(header_source<http_headers>);
static_assert(header_source<header_view>);

}  // namespace meetingbaas::inline v0
