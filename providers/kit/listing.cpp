#include "providers/kit/listing.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/files.hpp"
#include "core/log.hpp"

namespace fitbridge::providers::kit {

namespace {

std::optional<int64_t> to_int(std::string_view s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    for (size_t start = 0;;) {
        auto at = s.find(sep, start);
        out.push_back(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) break;
        start = at + 1;
    }
    return out;
}

}  // namespace

Watermark::Watermark(store::CursorStore* store, std::string account, std::string name,
                     const std::filesystem::path& legacy_file)
    : m_store(store), m_account(std::move(account)), m_name(std::move(name)), m_legacy_file(legacy_file) {
    std::optional<std::string> text;
    if (m_store != nullptr) {
        auto loaded = m_store->load(m_account, m_name);
        if (loaded)
            text = *loaded;
        else
            log::warn("account {}: cannot read the listing position: {}", m_account, loaded.error().message);
    }
    if (!text && !legacy_file.empty()) {
        if (auto file = read_file(legacy_file)) {
            while (!file->empty() && (file->back() == '\n' || file->back() == ' ')) file->pop_back();
            text = *file;
        }
    }
    if (!text) return;
    if (auto v = to_int(*text))
        m_value = static_cast<double>(*v);
    else
        log::warn("account {}: ignoring an unreadable listing position '{}'", m_account, *text);
}

void Watermark::see(double start) { m_seen = std::max(m_seen.value_or(start), start); }

void Watermark::finish() {
    if (!m_seen || (m_value && *m_value >= *m_seen)) return;
    m_value = m_seen;
    if (m_store == nullptr) return;
    if (auto r = m_store->save(m_account, m_name, fmt::format("{}", static_cast<int64_t>(*m_value))); !r) {
        log::warn("account {}: cannot save the listing position: {}", m_account, r.error().message);
        return;
    }
    // The store has it now: an older version's side file is no longer needed.
    std::error_code ec;
    if (!m_legacy_file.empty()) std::filesystem::remove(m_legacy_file, ec);
}

std::string WindowCursor::format() const {
    std::string ids;
    for (const auto& id : seen) ids += (ids.empty() ? "" : ",") + id;
    return fmt::format("{}|{}|{}|{}|{}", static_cast<int64_t>(std::floor(since)),
                       until ? fmt::format("{}", static_cast<int64_t>(std::ceil(*until))) : std::string(), position,
                       incremental ? 1 : 0, ids);
}

std::optional<WindowCursor> WindowCursor::parse(std::string_view text) {
    auto parts = split(text, '|');
    if (parts.size() != 5) return std::nullopt;
    WindowCursor w;
    auto since = to_int(parts[0]);
    if (!since) return std::nullopt;
    w.since = static_cast<double>(*since);
    if (!parts[1].empty()) {
        auto until = to_int(parts[1]);
        if (!until) return std::nullopt;
        w.until = static_cast<double>(*until);
    }
    w.position = std::string(parts[2]);
    w.incremental = parts[3] == "1";
    if (!parts[4].empty())
        for (auto id : split(parts[4], ',')) w.seen.emplace_back(id);
    return w;
}

bool WindowCursor::was_seen(std::string_view id) const {
    for (const auto& s : seen)
        if (s == id) return true;
    return false;
}

Result<WindowCursor> window_of(const ListQuery& query, const Watermark& watermark, double now, double overlap_s,
                               std::string_view platform) {
    if (query.cursor) {
        auto c = WindowCursor::parse(*query.cursor);
        if (!c)
            return Error::permanent(fmt::format("{}.cursor", platform), "malformed listing cursor: " + *query.cursor);
        return *c;
    }
    WindowCursor w;
    w.incremental = !query.since.has_value();
    w.since = query.since ? *query.since : watermark.since(now, overlap_s);
    w.until = query.until;
    return w;
}

Task<ListPage> list_window(const ListQuery& query, Watermark& watermark, double now, double overlap_s,
                           std::string_view platform, FetchWindow fetch) {
    auto w = window_of(query, watermark, now, overlap_s, platform);
    if (!w) co_return w.error();
    if (!query.cursor && w->incremental) watermark.begin();
    auto page = co_await fetch(*w);
    if (!page) co_return page.error();
    ListPage out;
    for (auto& item : page->items) {
        if (w->was_seen(item.remote_id)) continue;  // listed on the previous page
        if (item.start_time) {
            if (!w->contains(*item.start_time)) continue;
            if (w->incremental) watermark.see(*item.start_time);
        }
        out.items.push_back(std::move(item));
    }
    if (page->next_position) {
        w->position = *page->next_position;
        w->seen = std::move(page->boundary_ids);
        out.next_cursor = w->format();
    } else if (w->incremental) {
        watermark.finish();
    }
    co_return out;
}

std::string page_query(Paging paging, const std::string& position, int limit, const PageNames& n) {
    switch (paging) {
        case Paging::offset:
            return fmt::format("{}={}&{}={}", n.offset, position.empty() ? "0" : position, n.limit, limit);
        case Paging::page0:
        case Paging::page1:
            return fmt::format("{}={}&{}={}", n.page,
                               position.empty() ? (paging == Paging::page0 ? "0" : "1") : position, n.per_page, limit);
        case Paging::next_link: return position.empty() ? fmt::format("{}={}", n.limit, limit) : std::string();
        case Paging::cursor:
            return position.empty() ? fmt::format("{}={}", n.limit, limit)
                                    : fmt::format("{}={}&{}={}", n.cursor, position, n.limit, limit);
    }
    return {};
}

std::optional<std::string> next_position(Paging paging, const std::string& position, size_t rows, int limit,
                                         std::string_view next) {
    switch (paging) {
        case Paging::offset: {
            if (rows < static_cast<size_t>(limit) || rows == 0) return std::nullopt;
            return std::to_string(to_int(position).value_or(0) + static_cast<int64_t>(rows));
        }
        case Paging::page0:
        case Paging::page1: {
            if (rows < static_cast<size_t>(limit) || rows == 0) return std::nullopt;
            const int64_t first = paging == Paging::page0 ? 0 : 1;
            return std::to_string(position.empty() ? first + 1 : to_int(position).value_or(first) + 1);
        }
        case Paging::next_link:
        case Paging::cursor:
            if (next.empty() || next == position) return std::nullopt;
            return std::string(next);
    }
    return std::nullopt;
}

}  // namespace fitbridge::providers::kit
