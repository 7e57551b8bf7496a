#pragma once
// Listing helpers: the watermark of incremental listings (kept in the store's
// cursors table), a window cursor that carries a paged listing from one
// list() call to the next, and page walkers for the paging styles platforms
// use (offset/limit, page/per_page from 0 or 1, `next` links, opaque cursors).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "providers/provider.hpp"
#include "store/cursors.hpp"

namespace fitbridge::providers::kit {

// The newest start time seen by complete incremental listings. An
// incremental listing starts `overlap` before it, so late uploads and edits
// inside the overlap are listed again. Kept under `name` in the cursor store;
// `legacy_file` (a side file of an older version) is read when the store has
// nothing yet, and removed once the store holds a position.
class Watermark {
public:
    Watermark(store::CursorStore* store, std::string account, std::string name = "watermark",
              const std::filesystem::path& legacy_file = {});
    std::optional<double> value() const { return m_value; }
    // Where an incremental listing starts: (watermark or now) - overlap.
    double since(double now, double overlap_s) const { return m_value.value_or(now) - overlap_s; }
    // An incremental listing begins: forget what an unfinished one saw.
    void begin() { m_seen.reset(); }
    void see(double start);
    // The incremental listing's last page was read: keep the newest start.
    void finish();

private:
    store::CursorStore* m_store;
    std::string m_account;
    std::string m_name;
    std::filesystem::path m_legacy_file;
    std::optional<double> m_value;
    std::optional<double> m_seen;
};

// The state of a paged window listing, carried in ListPage::next_cursor:
// the window, whether it is incremental, the platform's page position and
// ids already returned at a page boundary (to skip when listed again).
struct WindowCursor {
    double since = 0;
    std::optional<double> until{};
    bool incremental = false;
    std::string position{};
    std::vector<std::string> seen{};

    std::string format() const;
    static std::optional<WindowCursor> parse(std::string_view text);
    // Whether `start` falls in [since, until).
    bool contains(double start) const { return start >= since && (!until || start < *until); }
    bool was_seen(std::string_view id) const;
};

// The first WindowCursor of `query`: an explicit window, or an incremental one
// from the watermark. A malformed query.cursor is a permanent error.
Result<WindowCursor> window_of(const ListQuery& query, const Watermark& watermark, double now, double overlap_s,
                               std::string_view platform);

// What a platform's list call gave for one page of a window.
struct WindowPage {
    std::vector<RemoteActivity> items{};
    std::optional<std::string> next_position{};  // set when there is another page
    // Ids at the page boundary that the next page will list again.
    std::vector<std::string> boundary_ids{};
};
using FetchWindow = std::function<Task<WindowPage>(const WindowCursor& window)>;

// One list() call of a window listing: resumes query.cursor or starts a new
// window (incremental from the watermark less `overlap_s`), fetches one page,
// drops items outside the window or already returned at a page boundary,
// and either returns the next cursor or, after an incremental listing's last
// page, moves the watermark to the newest start seen.
Task<ListPage> list_window(const ListQuery& query, Watermark& watermark, double now, double overlap_s,
                           std::string_view platform, FetchWindow fetch);

enum class Paging {
    offset,     // offset=N&limit=L
    page0,      // page=0,1,...&per_page=L
    page1,      // page=1,2,...&per_page=L
    next_link,  // the answer names the next page's URL
    cursor,     // the answer carries an opaque token for the next page
};

struct PageNames {
    std::string_view offset = "offset";
    std::string_view limit = "limit";
    std::string_view page = "page";
    std::string_view per_page = "per_page";
    std::string_view cursor = "cursor";
};

// Query parameters for the page at `position` (empty: the first page); for
// next_link the position is the URL itself and nothing is added after the first page.
std::string page_query(Paging paging, const std::string& position, int limit, const PageNames& names = {});
// The next page's position, or nullopt after the last page: a short page ends
// offset and page listings; an absent `next` (link or token) ends the others.
std::optional<std::string> next_position(Paging paging, const std::string& position, size_t rows, int limit,
                                         std::string_view next = {});

}  // namespace fitbridge::providers::kit
