#include "config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <variant>

#include "core/files.hpp"
#include "core/time.hpp"
#include "json/json.hpp"

namespace fitbridge::config {

namespace {

// ---- the field table -------------------------------------------------------

enum class Kind { string, integer, duration, number, boolean, string_list };

template <typename T>
using Member = std::variant<std::string T::*, int64_t T::*, double T::*, bool T::*, std::vector<std::string> T::*>;

// One scalar or list field of an object. `validate` returns an error text for
// a bad value, or an empty string.
template <typename T>
struct Field {
    std::string_view name;
    Kind kind;
    Member<T> member;
    bool required = false;
    std::string (*validate)(const T&) = nullptr;
};

std::string check_listen(const ApiConfig& a) {
    if (a.listen.rfind("unix:", 0) == 0) {
        return a.listen.size() > 5 && a.listen[5] == '/' ? "" : "a unix socket needs an absolute path: unix:/path";
    }
    auto colon = a.listen.rfind(':');
    if (colon == std::string::npos || colon == 0) return "expected host:port or unix:/path";
    auto port = a.listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoi(port) > 65535)
        return fmt::format("bad port '{}'", port);
    return "";
}
std::string check_body(const ApiConfig& a) {
    return a.max_body_bytes >= 1024 && a.max_body_bytes <= (64 << 20) ? "" : "must be between 1024 and 67108864";
}
std::string check_header_timeout(const ApiConfig& a) { return a.header_timeout_s >= 1 ? "" : "must be at least 1s"; }
std::string check_req_timeout(const ApiConfig& a) { return a.request_timeout_s >= 1 ? "" : "must be at least 1s"; }
std::string check_idle_timeout(const ApiConfig& a) { return a.idle_timeout_s >= 1 ? "" : "must be at least 1s"; }
std::string check_max_conn(const ApiConfig& a) {
    return a.max_connections >= 1 && a.max_connections <= 4096 ? "" : "must be between 1 and 4096";
}
std::string check_level(const Config& c) {
    static constexpr std::array<std::string_view, 4> k_levels{"debug", "info", "warn", "error"};
    return std::find(k_levels.begin(), k_levels.end(), c.log_level) != k_levels.end()
               ? ""
               : "must be one of debug, info, warn, error";
}
std::string check_tolerance(const SyncConfig& s) {
    return s.match_tolerance_s >= 0 && s.match_tolerance_s <= 86400 ? "" : "must be between 0s and 1d";
}
std::string check_ratio(const SyncConfig& s) {
    return s.match_duration_ratio >= 0 && s.match_duration_ratio <= 1 ? "" : "must be between 0 and 1";
}
std::string check_concurrency(const SyncConfig& s) {
    return s.max_concurrent_per_account >= 1 && s.max_concurrent_per_account <= 16 ? "" : "must be between 1 and 16";
}
std::string check_settle(const SyncConfig& s) { return s.settle_time_s >= 0 ? "" : "must not be negative"; }
std::string check_account_id(const AccountConfig& a) {
    bool good = !a.id.empty() && a.id.size() <= 64 && std::all_of(a.id.begin(), a.id.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    });
    return good ? "" : "must be 1-64 characters of a-z, 0-9, '-' and '_'";
}
std::string check_poll(const AccountConfig& a) {
    return a.poll_interval_s >= 10 ? "" : "must be at least 10s (be kind to the platforms)";
}
std::string check_route_id(const RouteConfig& r) {
    AccountConfig tmp;
    tmp.id = r.id;
    return check_account_id(tmp);
}

const std::array<Field<Config>, 1> k_root_fields{{
    {"log_level", Kind::string, &Config::log_level, false, check_level},
}};

const std::array<Field<ApiConfig>, 9> k_api_fields{{
    {"listen", Kind::string, &ApiConfig::listen, false, check_listen},
    {"allowed_hosts", Kind::string_list, &ApiConfig::allowed_hosts},
    {"allowed_origins", Kind::string_list, &ApiConfig::allowed_origins},
    {"max_body_bytes", Kind::integer, &ApiConfig::max_body_bytes, false, check_body},
    {"header_timeout", Kind::duration, &ApiConfig::header_timeout_s, false, check_header_timeout},
    {"request_timeout", Kind::duration, &ApiConfig::request_timeout_s, false, check_req_timeout},
    {"idle_timeout", Kind::duration, &ApiConfig::idle_timeout_s, false, check_idle_timeout},
    {"max_connections", Kind::integer, &ApiConfig::max_connections, false, check_max_conn},
    {"metrics_public", Kind::boolean, &ApiConfig::metrics_public},
}};

const std::array<Field<SyncConfig>, 5> k_sync_fields{{
    {"match_tolerance", Kind::duration, &SyncConfig::match_tolerance_s, false, check_tolerance},
    {"match_duration_ratio", Kind::number, &SyncConfig::match_duration_ratio, false, check_ratio},
    {"max_concurrent_per_account", Kind::integer, &SyncConfig::max_concurrent_per_account, false, check_concurrency},
    {"settle_time", Kind::duration, &SyncConfig::settle_time_s, false, check_settle},
    {"name_authority", Kind::string, &SyncConfig::name_authority, false, nullptr},
}};

const std::array<Field<AccountConfig>, 4> k_account_fields{{
    {"id", Kind::string, &AccountConfig::id, true, check_account_id},
    {"provider", Kind::string, &AccountConfig::provider, true, nullptr},
    {"poll_interval", Kind::duration, &AccountConfig::poll_interval_s, false, check_poll},
    {"enabled", Kind::boolean, &AccountConfig::enabled},
}};

const std::array<Field<RouteConfig>, 4> k_route_fields{{
    {"id", Kind::string, &RouteConfig::id, true, check_route_id},
    {"from", Kind::string_list, &RouteConfig::from, true},
    {"to", Kind::string_list, &RouteConfig::to, true},
    {"sports", Kind::string_list, &RouteConfig::sports},
}};

// ---- parsing ----------------------------------------------------------------

struct Ctx {
    std::string source;
    Error fail(const YAML::Node& n, std::string_view path, std::string_view msg) const {
        auto m = n.Mark();
        return Error::permanent("config.invalid",
                                fmt::format("{}:{}:{}: {}: {}", source, m.line + 1, m.column + 1, path, msg));
    }
};

std::string_view node_kind(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Null: return "null";
        case YAML::NodeType::Scalar: return "a scalar";
        case YAML::NodeType::Sequence: return "a sequence";
        case YAML::NodeType::Map: return "a mapping";
        default: return "nothing";
    }
}

std::string join_path(std::string_view prefix, std::string_view key) {
    return prefix.empty() ? std::string(key) : fmt::format("{}.{}", prefix, key);
}

Result<int64_t> parse_duration(const std::string& s) {
    if (s.empty()) return Error::permanent("config.invalid", "empty duration");
    size_t i = 0;
    int64_t v = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        if (v > 1'000'000'000) return Error::permanent("config.invalid", "duration too large");
        v = v * 10 + (s[i] - '0');
        ++i;
    }
    if (i == 0) return Error::permanent("config.invalid", fmt::format("bad duration '{}' (use 30s, 15m, 2h, 1d)", s));
    auto unit = s.substr(i);
    if (unit.empty() || unit == "s") return v;
    if (unit == "m") return v * 60;
    if (unit == "h") return v * 3600;
    if (unit == "d") return v * 86400;
    return Error::permanent("config.invalid", fmt::format("bad duration '{}' (use 30s, 15m, 2h, 1d)", s));
}

template <typename T>
Result<void> parse_field(const Ctx& ctx, const Field<T>& f, const YAML::Node& v, const std::string& path, T& obj) {
    if (f.kind == Kind::string_list) {
        auto& out = obj.*std::get<std::vector<std::string> T::*>(f.member);
        out.clear();
        if (v.IsScalar()) {  // a single value is a list of one
            out.push_back(v.Scalar());
            return {};
        }
        if (!v.IsSequence()) return ctx.fail(v, path, fmt::format("expected a list of strings, got {}", node_kind(v)));
        for (const auto& item : v) {
            if (!item.IsScalar())
                return ctx.fail(item, path, fmt::format("expected a string, got {}", node_kind(item)));
            out.push_back(item.Scalar());
        }
        return {};
    }
    if (!v.IsScalar()) return ctx.fail(v, path, fmt::format("expected a single value, got {}", node_kind(v)));
    const std::string& text = v.Scalar();
    switch (f.kind) {
        case Kind::string: obj.*std::get<std::string T::*>(f.member) = text; break;
        case Kind::integer: {
            char* end = nullptr;
            errno = 0;
            long long n = std::strtoll(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0' || errno == ERANGE)
                return ctx.fail(v, path, fmt::format("expected an integer, got '{}'", text));
            obj.*std::get<int64_t T::*>(f.member) = n;
            break;
        }
        case Kind::duration: {
            auto d = parse_duration(text);
            if (!d) return ctx.fail(v, path, d.error().message);
            obj.*std::get<int64_t T::*>(f.member) = *d;
            break;
        }
        case Kind::number: {
            char* end = nullptr;
            double n = std::strtod(text.c_str(), &end);
            if (text.empty() || *end != '\0')
                return ctx.fail(v, path, fmt::format("expected a number, got '{}'", text));
            obj.*std::get<double T::*>(f.member) = n;
            break;
        }
        case Kind::boolean: {
            if (text == "true" || text == "yes" || text == "on")
                obj.*std::get<bool T::*>(f.member) = true;
            else if (text == "false" || text == "no" || text == "off")
                obj.*std::get<bool T::*>(f.member) = false;
            else
                return ctx.fail(v, path, fmt::format("expected true or false, got '{}'", text));
            break;
        }
        case Kind::string_list: break;
    }
    if (f.validate) {
        auto msg = f.validate(obj);
        if (!msg.empty()) return ctx.fail(v, path, msg);
    }
    return {};
}

// Parses a mapping with a field table. Keys not in the table go to `extra`
// when given (provider options), else they are errors.
template <typename T, size_t N>
Result<void> parse_object(
    const Ctx& ctx, const YAML::Node& node, const std::string& prefix, const std::array<Field<T>, N>& table, T& obj,
    const std::function<Result<void>(const std::string&, const YAML::Node&, const YAML::Node&)>& extra = nullptr) {
    if (!node.IsMap()) return ctx.fail(node, prefix, fmt::format("expected a mapping, got {}", node_kind(node)));
    for (const auto& kv : node) {
        const auto key = kv.first.as<std::string>();
        const auto path = join_path(prefix, key);
        auto it = std::find_if(table.begin(), table.end(), [&](const Field<T>& f) { return f.name == key; });
        if (it == table.end()) {
            if (extra) {
                auto r = extra(key, kv.first, kv.second);
                if (!r) return r;
                continue;
            }
            return ctx.fail(kv.first, path, "unknown key");
        }
        auto r = parse_field(ctx, *it, kv.second, path, obj);
        if (!r) return r;
    }
    for (const auto& f : table) {
        if (f.required && !node[std::string(f.name)]) {
            return ctx.fail(node, join_path(prefix, f.name), "required key is missing");
        }
    }
    return {};
}

Result<void> parse_accounts(const Ctx& ctx, const YAML::Node& node, Config& c) {
    if (!node.IsSequence()) return ctx.fail(node, "accounts", fmt::format("expected a list, got {}", node_kind(node)));
    size_t i = 0;
    for (const auto& item : node) {
        AccountConfig a;
        a.line = item.Mark().line + 1;
        const auto prefix = fmt::format("accounts[{}]", i++);
        // A nested mapping (`list: {path: /runs}`) becomes dotted keys
        // (`list.path`), so providers see flat options whatever the nesting.
        std::function<Result<void>(const std::string&, const YAML::Node&, const YAML::Node&)> extra =
            [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& v) -> Result<void> {
            const auto path = join_path(prefix, key);
            const auto leaf = key.substr(key.rfind('.') + 1);
            if (is_secret_key(leaf)) {
                return ctx.fail(key_node, path,
                                fmt::format("secrets are not written inline; put it in a file and use {}_file", leaf));
            }
            const auto mark = key_node.Mark();
            a.option_marks[key] = OptionMark{mark.line + 1, mark.column + 1};
            if (v.IsScalar()) {
                a.options[key] = v.Scalar();
            } else if (v.IsSequence()) {
                auto& list = a.list_options[key];
                for (const auto& e : v) {
                    if (!e.IsScalar()) return ctx.fail(e, path, "expected a list of strings");
                    list.push_back(e.Scalar());
                }
            } else if (v.IsMap()) {
                for (const auto& kv : v) {
                    if (!kv.first.IsScalar()) return ctx.fail(kv.first, path, "expected a mapping with plain keys");
                    auto r = extra(key + "." + kv.first.Scalar(), kv.first, kv.second);
                    if (!r) return r;
                }
                a.option_marks.erase(key);
            } else {
                // (A null has no position of its own: name the key's.)
                return ctx.fail(key_node, path,
                                fmt::format("expected a value, a list or a mapping, got {}", node_kind(v)));
            }
            return {};
        };
        auto r = parse_object(ctx, item, prefix, k_account_fields, a, extra);
        if (!r) return r;
        for (const auto& other : c.accounts) {
            if (other.id == a.id)
                return ctx.fail(item["id"], join_path(prefix, "id"), "duplicate account id '" + a.id + "'");
        }
        c.accounts.push_back(std::move(a));
    }
    return {};
}

Result<void> parse_routes(const Ctx& ctx, const YAML::Node& node, Config& c) {
    if (!node.IsSequence()) return ctx.fail(node, "routes", fmt::format("expected a list, got {}", node_kind(node)));
    size_t i = 0;
    for (const auto& item : node) {
        RouteConfig r;
        r.line = item.Mark().line + 1;
        const auto prefix = fmt::format("routes[{}]", i++);
        auto extra = [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& v) -> Result<void> {
            if (key != "since") return ctx.fail(key_node, join_path(prefix, key), "unknown key");
            if (!v.IsScalar() || !parse_iso8601(v.Scalar()))
                return ctx.fail(v, join_path(prefix, key), "expected a date like 2019-01-01");
            r.since = v.Scalar();
            return {};
        };
        auto res = parse_object(ctx, item, prefix, k_route_fields, r, extra);
        if (!res) return res;
        for (const auto* list : {&r.from, &r.to}) {
            const char* which = list == &r.from ? "from" : "to";
            if (list->empty()) return ctx.fail(item, join_path(prefix, which), "needs at least one account");
            for (const auto& id : *list) {
                bool known = std::any_of(c.accounts.begin(), c.accounts.end(),
                                         [&](const AccountConfig& a) { return a.id == id; });
                if (!known)
                    return ctx.fail(item[which], join_path(prefix, which), fmt::format("unknown account '{}'", id));
            }
        }
        for (const auto& s : r.sports) {
            static constexpr std::array<std::string_view, 10> k_families{"ride", "run", "swim",     "walk", "hike",
                                                                         "row",  "ski", "strength", "yoga", "other"};
            if (std::find(k_families.begin(), k_families.end(), s) == k_families.end())
                return ctx.fail(item["sports"], join_path(prefix, "sports"),
                                fmt::format("unknown sport family '{}' (ride, run, swim, walk, hike, row, ski, "
                                            "strength, yoga, other)",
                                            s));
        }
        for (const auto& other : c.routes) {
            if (other.id == r.id)
                return ctx.fail(item["id"], join_path(prefix, "id"), "duplicate route id '" + r.id + "'");
        }
        c.routes.push_back(std::move(r));
    }
    return {};
}

// ---- dumping ----------------------------------------------------------------

// A tiny output interface so one walk over the tables renders JSON and YAML.
struct Out {
    virtual ~Out() = default;
    virtual void begin_map() = 0;
    virtual void end_map() = 0;
    virtual void begin_list() = 0;
    virtual void end_list() = 0;
    virtual void key(std::string_view k) = 0;
    virtual void str(std::string_view s) = 0;
    virtual void integer(int64_t v) = 0;
    virtual void number(double v) = 0;
    virtual void boolean(bool v) = 0;
};

struct JsonOut final : Out {
    json::Builder b;
    void begin_map() override { b.w.StartObject(); }
    void end_map() override { b.w.EndObject(); }
    void begin_list() override { b.w.StartArray(); }
    void end_list() override { b.w.EndArray(); }
    void key(std::string_view k) override { b.key(k); }
    void str(std::string_view s) override { b.string(s); }
    void integer(int64_t v) override { b.w.Int64(v); }
    void number(double v) override { b.w.Double(v); }
    void boolean(bool v) override { b.w.Bool(v); }
};

struct YamlOut final : Out {
    YAML::Emitter e;
    void begin_map() override { e << YAML::BeginMap; }
    void end_map() override { e << YAML::EndMap; }
    void begin_list() override { e << YAML::BeginSeq; }
    void end_list() override { e << YAML::EndSeq; }
    void key(std::string_view k) override {
        e << YAML::Key;
        scalar(k);
        e << YAML::Value;
    }
    void str(std::string_view s) override { scalar(s); }
    // yaml-cpp writes a carriage return (and other control characters) into a
    // plain scalar, where a reader takes it for a line break: such text, and
    // text with blanks at either end, is double-quoted, with escapes.
    void scalar(std::string_view s) {
        const bool control = std::any_of(s.begin(), s.end(), [](char c) {
            const auto u = static_cast<unsigned char>(c);
            return u < 0x20 || u == 0x7f;
        });
        const bool padded = !s.empty() && (s.front() == ' ' || s.back() == ' ');
        if (control || padded) e << YAML::DoubleQuoted;
        e << std::string(s);
    }
    void integer(int64_t v) override { e << v; }
    void number(double v) override { e << v; }
    void boolean(bool v) override { e << v; }
};

std::string duration_text(int64_t s) {
    if (s != 0 && s % 86400 == 0) return fmt::format("{}d", s / 86400);
    if (s != 0 && s % 3600 == 0) return fmt::format("{}h", s / 3600);
    if (s != 0 && s % 60 == 0) return fmt::format("{}m", s / 60);
    return fmt::format("{}s", s);
}

template <typename T, size_t N>
void dump_fields(Out& o, const std::array<Field<T>, N>& table, const T& obj) {
    for (const auto& f : table) {
        o.key(f.name);
        switch (f.kind) {
            case Kind::string: o.str(obj.*std::get<std::string T::*>(f.member)); break;
            case Kind::integer: o.integer(obj.*std::get<int64_t T::*>(f.member)); break;
            case Kind::duration: o.str(duration_text(obj.*std::get<int64_t T::*>(f.member))); break;
            case Kind::number: o.number(obj.*std::get<double T::*>(f.member)); break;
            case Kind::boolean: o.boolean(obj.*std::get<bool T::*>(f.member)); break;
            case Kind::string_list:
                o.begin_list();
                for (const auto& s : obj.*std::get<std::vector<std::string> T::*>(f.member)) o.str(s);
                o.end_list();
                break;
        }
    }
}

void dump(Out& o, const Config& c) {
    o.begin_map();
    dump_fields(o, k_root_fields, c);
    o.key("api");
    o.begin_map();
    dump_fields(o, k_api_fields, c.api);
    o.end_map();
    o.key("sync");
    o.begin_map();
    dump_fields(o, k_sync_fields, c.sync);
    o.end_map();
    o.key("accounts");
    o.begin_list();
    for (const auto& a : c.accounts) {
        o.begin_map();
        dump_fields(o, k_account_fields, a);
        for (const auto& [k, v] : a.options) {
            o.key(k);
            // Defence in depth: parse() refuses inline secrets, but never echo one.
            o.str(is_secret_key(k) ? "<redacted>" : v);
        }
        for (const auto& [k, list] : a.list_options) {
            o.key(k);
            o.begin_list();
            for (const auto& v : list) o.str(is_secret_key(k) ? "<redacted>" : v);
            o.end_list();
        }
        o.end_map();
    }
    o.end_list();
    o.key("routes");
    o.begin_list();
    for (const auto& r : c.routes) {
        o.begin_map();
        dump_fields(o, k_route_fields, r);
        if (r.since) {
            o.key("since");
            o.str(*r.since);
        }
        o.end_map();
    }
    o.end_list();
    o.end_map();
}

}  // namespace

bool is_secret_key(std::string_view key) {
    static constexpr std::array<std::string_view, 9> k_secret{"api_key",       "token",    "access_token",
                                                              "refresh_token", "password", "client_secret",
                                                              "secret",        "cookie",   "session"};
    return std::find(k_secret.begin(), k_secret.end(), key) != k_secret.end();
}

namespace {

// A config file is UTF-8 text (YAML allows no other control characters than
// tab and line breaks). yaml-cpp accepts such bytes silently, and values
// holding them would not survive `config show`. Returns the first offender.
std::optional<Error> check_text(std::string_view text, const std::string& source_name) {
    int line = 1, column = 1;
    for (size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
        bool valid = len != 0 && i + len <= text.size();
        uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1fu) : len == 3 ? (b & 0x0fu) : (b & 0x07u);
        for (size_t k = 1; valid && k < len; ++k) {
            const auto cont = static_cast<unsigned char>(text[i + k]);
            valid = (cont & 0xc0) == 0x80;
            cp = (cp << 6) | (cont & 0x3fu);
        }
        // Shortest form only, no surrogates, nothing past U+10FFFF.
        static constexpr uint32_t k_min[] = {0, 0, 0x80, 0x800, 0x10000};
        valid = valid && cp >= k_min[len] && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
        if (!valid)
            return Error::permanent(
                "config.syntax", fmt::format("{}:{}:{}: not UTF-8 text (byte 0x{:02x})", source_name, line, column, b));
        if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f)
            return Error::permanent("config.syntax", fmt::format("{}:{}:{}: control character 0x{:02x} in the text",
                                                                 source_name, line, column, b));
        if (b == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        i += len;
    }
    return std::nullopt;
}

}  // namespace

Result<Config> parse(std::string_view yaml, const std::string& source_name) {
    Ctx ctx{source_name};
    if (auto bad = check_text(yaml, source_name)) return *bad;
    YAML::Node root;
    try {
        root = YAML::Load(std::string(yaml));
    } catch (const YAML::Exception& e) {
        return Error::permanent("config.syntax", fmt::format("{}:{}:{}: YAML syntax error: {}", source_name,
                                                             e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    Config c;
    if (!root || root.IsNull()) return c;  // an empty file is the defaults
    try {
        auto extra = [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& v) -> Result<void> {
            if (key == "api") return parse_object(ctx, v, "api", k_api_fields, c.api);
            if (key == "sync") return parse_object(ctx, v, "sync", k_sync_fields, c.sync);
            if (key == "accounts") return v.IsNull() ? Result<void>{} : parse_accounts(ctx, v, c);
            if (key == "routes") return Result<void>{};  // after accounts, below
            return ctx.fail(key_node, key, "unknown key");
        };
        auto r = parse_object(ctx, root, "", k_root_fields, c, extra);
        if (!r) return r.error();
        if (root["routes"] && !root["routes"].IsNull()) {
            auto rr = parse_routes(ctx, root["routes"], c);
            if (!rr) return rr.error();
        }
        if (!c.sync.name_authority.empty() &&
            std::none_of(c.accounts.begin(), c.accounts.end(),
                         [&](const AccountConfig& a) { return a.id == c.sync.name_authority; })) {
            return ctx.fail(root["sync"]["name_authority"], "sync.name_authority",
                            fmt::format("unknown account '{}'", c.sync.name_authority));
        }
    } catch (const YAML::Exception& e) {
        return Error::permanent("config.invalid",
                                fmt::format("{}:{}:{}: {}", source_name, e.mark.line + 1, e.mark.column + 1, e.msg));
    }
    return c;
}

Result<Config> load(const std::filesystem::path& path) {
    auto text = read_file(path);
    if (!text) return Error::permanent("config.unreadable", text.error().message);
    auto c = parse(*text, path.string());
    if (c) c->source = path;
    return c;
}

std::string to_json(const Config& c) {
    JsonOut o;
    dump(o, c);
    return o.b.str();
}

std::string to_yaml(const Config& c) {
    YamlOut o;
    dump(o, c);
    return std::string(o.e.c_str(), o.e.size()) + "\n";  // a value may hold an escaped NUL
}

std::filesystem::path resolve_secret_path(const std::string& ref, const Config& c) {
    std::filesystem::path p(ref);
    if (p.is_absolute()) return p;
    if (const char* creds = std::getenv("CREDENTIALS_DIRECTORY"); creds && *creds)
        return std::filesystem::path(creds) / p;
    if (!c.source.empty()) return c.source.parent_path() / p;
    return p;
}

Result<std::string> read_secret(const std::string& ref, const Config& c) {
    auto path = resolve_secret_path(ref, c);
    auto text = read_file(path);
    if (!text) return Error::auth("config.secret", text.error().message);
    auto s = std::move(*text);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    if (s.empty()) return Error::auth("config.secret", fmt::format("secret file {} is empty", path.string()));
    return s;
}

}  // namespace fitbridge::config
