#include "providers/kit/files.hpp"

#include <zip.h>

#include <cctype>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "formats/decode.hpp"
#include "formats/gzip.hpp"

namespace fitbridge::providers::kit {

namespace {

std::span<const uint8_t> bytes_of(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

bool is_zip(std::string_view b) { return b.starts_with("PK\x03\x04") || b.starts_with("PK\x05\x06"); }

std::string printable_prefix(std::string_view body) {
    std::string out;
    for (char c : body.substr(0, 32)) {
        auto u = static_cast<unsigned char>(c);
        out += std::isprint(u) ? std::string(1, c) : fmt::format("\\x{:02x}", u);
    }
    return out;
}

// The activity kind of bytes, looking inside gzip.
formats::Sniffed activity_kind(std::string_view bytes, std::string* gzip_error = nullptr) {
    auto kind = formats::sniff(bytes_of(bytes));
    if (kind != formats::Sniffed::gzip) return kind;
    auto inner = formats::gunzip(bytes_of(bytes), k_max_unpacked);
    if (!inner.error.empty()) {
        if (gzip_error != nullptr) *gzip_error = inner.error;
        return formats::Sniffed::unknown;
    }
    return formats::sniff(inner.payload);
}

Error bad_file(const Platform& p, std::string message) {
    return Error::permanent(std::string(p.name) + ".bad_file", std::move(message));
}

}  // namespace

std::optional<std::string> file_extension(std::span<const uint8_t> bytes) {
    auto name = [](formats::Sniffed s) -> std::optional<std::string> {
        switch (s) {
            case formats::Sniffed::fit: return "fit";
            case formats::Sniffed::gpx: return "gpx";
            case formats::Sniffed::tcx: return "tcx";
            default: return std::nullopt;
        }
    };
    auto kind = formats::sniff(bytes);
    if (kind != formats::Sniffed::gzip) return name(kind);
    auto inner = formats::gunzip(bytes, k_max_unpacked);
    if (!inner.error.empty()) return std::nullopt;
    auto n = name(formats::sniff(inner.payload));
    if (!n) return std::nullopt;
    return *n + ".gz";
}

Result<std::string> unzip_activity(const Platform& p, std::string_view zip_bytes, std::string_view what) {
    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(zip_bytes.data(), zip_bytes.size(), 0, &error);
    if (source == nullptr) {
        zip_error_fini(&error);
        return bad_file(p, fmt::format("{} sent a ZIP archive for {} that cannot be read", p.title, what));
    }
    zip_t* archive = zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (archive == nullptr) {
        std::string reason = zip_error_strerror(&error);
        zip_source_free(source);
        zip_error_fini(&error);
        return bad_file(p, fmt::format("{} sent a damaged or truncated ZIP archive for {}: {}", p.title, what, reason));
    }
    zip_error_fini(&error);
    std::unique_ptr<zip_t, void (*)(zip_t*)> guard(archive, [](zip_t* z) { zip_discard(z); });
    const zip_int64_t count = zip_get_num_entries(archive, 0);
    std::vector<std::pair<std::string, std::string>> activities;  // name, bytes
    std::vector<std::string> others;
    for (zip_int64_t i = 0; i < count; ++i) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(archive, static_cast<zip_uint64_t>(i), 0, &st) != 0) continue;
        std::string name = st.name != nullptr ? st.name : "";
        if (name.empty() || name.back() == '/') continue;  // a directory
        if (st.size > k_max_unpacked)
            return bad_file(p, fmt::format("{} sent a ZIP archive for {} whose member {} is larger than {} MiB",
                                           p.title, what, name, k_max_unpacked >> 20));
        zip_file_t* f = zip_fopen_index(archive, static_cast<zip_uint64_t>(i), 0);
        if (f == nullptr)
            return bad_file(p, fmt::format("{} sent a ZIP archive for {} whose member {} cannot be opened: {}", p.title,
                                           what, name, zip_strerror(archive)));
        std::string data(static_cast<size_t>(st.size), '\0');
        const zip_int64_t got = zip_fread(f, data.data(), data.size());
        zip_fclose(f);
        if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
            return bad_file(p, fmt::format("{} sent a damaged or truncated ZIP archive for {}: member {} is cut short",
                                           p.title, what, name));
        if (activity_kind(data) != formats::Sniffed::unknown)
            activities.emplace_back(std::move(name), std::move(data));
        else
            others.push_back(std::move(name));
    }
    if (activities.size() == 1) return std::move(activities.front().second);
    if (activities.size() > 1) {
        std::string names;
        for (const auto& [n, _] : activities) names += (names.empty() ? "" : ", ") + n;
        return bad_file(p, fmt::format("{} sent a ZIP archive for {} with several activity files ({}); which one is "
                                       "the original is unclear",
                                       p.title, what, names));
    }
    if (others.empty()) return bad_file(p, fmt::format("{} sent an empty ZIP archive for {}", p.title, what));
    std::string names;
    for (const auto& n : others) names += (names.empty() ? "" : ", ") + n;
    return bad_file(
        p, fmt::format("{} sent a ZIP archive for {} holding no FIT, TCX or GPX file (only {})", p.title, what, names));
}

Result<std::string> accept_file(const Platform& p, std::string bytes, std::string_view content_type,
                                std::string_view what) {
    if (is_zip(bytes)) return unzip_activity(p, bytes, what);
    std::string gzip_error;
    auto kind = activity_kind(bytes, &gzip_error);
    if (!gzip_error.empty())
        return bad_file(p, fmt::format("{} sent a damaged gzip file for {}: {}", p.title, what, gzip_error));
    if (kind != formats::Sniffed::unknown) return bytes;
    const std::string code = std::string(p.name) + ".not_a_file";
    if (bytes.empty())
        return Error::permanent(code, fmt::format("{} sent an empty body for the file of {}", p.title, what));
    return Error::permanent(
        code, fmt::format("{} sent {} bytes of {} starting \"{}\" for {}, not a FIT, TCX or GPX file", p.title,
                          bytes.size(), content_type.empty() ? std::string_view("unknown type") : content_type,
                          printable_prefix(bytes), what));
}

Task<std::string> fetch_file(PlatformClient& client, Call call, std::string what) {
    auto r = co_await client.call(std::move(call));
    if (!r) co_return r.error();
    co_return accept_file(client.platform(), std::move(r->body), r->header("content-type"), what);
}

}  // namespace fitbridge::providers::kit
