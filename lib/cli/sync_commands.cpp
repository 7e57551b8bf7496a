#include "cli/sync_commands.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <chrono>
#include <map>
#include <thread>

#include "json/json.hpp"

namespace fitbridge::cli {

namespace {

constexpr int k_usage = 2;

std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

// Parses "--name value" / "--name=value" options; the rest are positionals.
struct Args {
    std::map<std::string, std::string> opts;
    std::vector<std::string> flags_seen;
    std::vector<std::string> positional;
};

bool parse_args(const std::vector<std::string>& args, const std::vector<std::string>& valued,
                const std::vector<std::string>& flags, Args& out, std::string& error) {
    for (size_t i = 0; i < args.size(); ++i) {
        const auto& a = args[i];
        if (a.rfind("--", 0) != 0) {
            out.positional.push_back(a);
            continue;
        }
        auto eq = a.find('=');
        std::string name = a.substr(0, eq);
        if (std::find(flags.begin(), flags.end(), name) != flags.end() && eq == std::string::npos) {
            out.flags_seen.push_back(name);
            continue;
        }
        if (std::find(valued.begin(), valued.end(), name) == valued.end()) {
            error = fmt::format("unknown option '{}'", name);
            return false;
        }
        if (eq != std::string::npos) {
            out.opts[name] = a.substr(eq + 1);
        } else if (i + 1 < args.size()) {
            out.opts[name] = args[++i];
        } else {
            error = fmt::format("{} needs a value", name);
            return false;
        }
    }
    return true;
}

bool has_flag(const Args& a, const std::string& f) {
    return std::find(a.flags_seen.begin(), a.flags_seen.end(), f) != a.flags_seen.end();
}

std::string str(const rapidjson::Value& v, const char* key, std::string fallback = "") {
    return json::get_string(v, key).value_or(std::move(fallback));
}

std::string km(const rapidjson::Value& v, const char* key) {
    auto d = json::get_number(v, key);
    return d ? fmt::format("{:.1f} km", *d / 1000.0) : std::string("-");
}

// Polls a job until it ends; draws a progress bar on a terminal.
int follow_job(const ClientContext& ctx, int64_t id, std::ostream& out, std::ostream& err) {
    const bool tty = ::isatty(STDOUT_FILENO) != 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(12);
    std::string last_line;
    while (std::chrono::steady_clock::now() < deadline) {
        auto body = call_api(ctx, "GET", fmt::format("/v1/jobs/{}", id));
        if (!body) {
            err << "fitbridge: " << body.error().message << "\n";
            return 1;
        }
        auto doc = json::parse(*body);
        if (!doc || !doc->IsObject()) {
            err << "fitbridge: unexpected answer from the daemon\n";
            return 1;
        }
        auto state = str(*doc, "state");
        auto done = json::get_int(*doc, "done").value_or(0);
        auto total = json::get_int(*doc, "total");
        if (tty) {
            constexpr int k_width = 30;
            int filled = total && *total > 0 ? static_cast<int>(k_width * done / *total) : 0;
            std::string line = fmt::format("\r[{}{}] {}/{} {}", std::string(static_cast<size_t>(filled), '#'),
                                           std::string(static_cast<size_t>(k_width - filled), ' '), done,
                                           total ? std::to_string(*total) : "?", state);
            if (line != last_line) out << line << std::flush;
            last_line = line;
        }
        if (state == "done" || state == "failed" || state == "cancelled") {
            if (tty) out << "\n";
            out << fmt::format("job {}: {}, {} of {} items processed", id, state, done,
                               total ? std::to_string(*total) : "?")
                << "\n";
            if (auto e = json::get_string(*doc, "error")) out << "  error: " << *e << "\n";
            return state == "done" ? 0 : 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    return 1;
}

std::optional<int64_t> job_id_of(const std::string& body) {
    auto doc = json::parse(body);
    if (!doc || !doc->IsObject() || !doc->HasMember("job")) return std::nullopt;
    return json::get_int((*doc)["job"], "id");
}

}  // namespace

int run_sync(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    Args a;
    std::string error;
    if (!parse_args(args, {}, {"--no-wait"}, a, error) || a.positional.size() > 1) {
        err << "fitbridge sync: " << (error.empty() ? "too many arguments" : error)
            << "\nusage: fitbridge sync [--no-wait] [ACCOUNT]\n";
        return k_usage;
    }
    std::vector<std::string> accounts = a.positional;
    if (accounts.empty()) {
        auto body = call_api(ctx, "GET", "/v1/accounts");
        if (!body) {
            err << "fitbridge sync: " << body.error().message << "\n";
            return 1;
        }
        auto doc = json::parse(*body);
        if (doc && doc->IsObject() && doc->HasMember("accounts"))
            for (const auto& acc : (*doc)["accounts"].GetArray())
                if (acc.HasMember("items") && json::get_bool(acc, "running").value_or(false))
                    accounts.push_back(str(acc, "id"));
        if (accounts.empty()) {
            out << "no running source accounts\n";
            return 0;
        }
    }
    int rc = 0;
    for (const auto& id : accounts) {
        auto body = call_api(ctx, "POST", fmt::format("/v1/accounts/{}/sync", url_encode(id)));
        if (!body) {
            err << "fitbridge sync: " << id << ": " << body.error().message << "\n";
            rc = 1;
            continue;
        }
        auto job = job_id_of(*body);
        out << id << ": sync job " << job.value_or(0) << " queued\n";
        if (job && !has_flag(a, "--no-wait")) rc |= follow_job(ctx, *job, out, err);
    }
    return rc;
}

int run_backfill(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    Args a;
    std::string error;
    static constexpr std::string_view k_use =
        "usage: fitbridge backfill --since DATE [--until DATE] [--account ID] [--no-wait] [ROUTE]\n";
    if (!parse_args(args, {"--since", "--until", "--account"}, {"--no-wait"}, a, error) || a.positional.size() > 1 ||
        !a.opts.count("--since")) {
        err << "fitbridge backfill: " << (error.empty() ? "--since DATE is required" : error) << "\n" << k_use;
        return k_usage;
    }
    json::Builder b;
    b.w.StartObject();
    b.key("since");
    b.string(a.opts["--since"]);
    if (a.opts.count("--until")) {
        b.key("until");
        b.string(a.opts["--until"]);
    }
    if (!a.positional.empty()) {
        b.key("route");
        b.string(a.positional[0]);
    }
    if (a.opts.count("--account")) {
        b.key("account");
        b.string(a.opts["--account"]);
    }
    b.w.EndObject();
    auto body = call_api(ctx, "POST", "/v1/backfill", b.str());
    if (!body) {
        err << "fitbridge backfill: " << body.error().message << "\n";
        return 1;
    }
    auto job = job_id_of(*body);
    out << "backfill job " << job.value_or(0) << " started\n";
    if (!job || has_flag(a, "--no-wait")) return 0;
    return follow_job(ctx, *job, out, err);
}

int run_plan(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    Args a;
    std::string error;
    if (!parse_args(args, {}, {"--json", "--all"}, a, error) || !a.positional.empty()) {
        err << "fitbridge plan: " << (error.empty() ? "unexpected argument" : error)
            << "\nusage: fitbridge plan [--json] [--all]\n";
        return k_usage;
    }
    auto body = call_api(ctx, "POST", "/v1/plan", "{}");
    if (!body) {
        err << "fitbridge plan: " << body.error().message << "\n";
        return 1;
    }
    if (has_flag(a, "--json")) {
        out << *body;
        return 0;
    }
    auto doc = json::parse(*body);
    if (!doc || !doc->IsObject()) return 1;
    const auto& t = (*doc)["totals"];
    out << fmt::format("would deliver {}, skip {}, already delivered {}\n", json::get_int(t, "deliver").value_or(0),
                       json::get_int(t, "skip").value_or(0), json::get_int(t, "already_delivered").value_or(0));
    for (const auto& p : (*doc)["plan"].GetArray()) {
        auto action = str(p, "action");
        if (action == "already_delivered" && !has_flag(a, "--all")) continue;
        out << fmt::format("  activity {:>6}  {:<20}  {:<8} -> {:<12} {}{}\n", json::get_int(p, "activity").value_or(0),
                           str(p, "start_time", "-"), str(p, "sport_family", "-"), str(p, "sink"), action,
                           p["reason"].IsString() ? " (" + str(p, "reason") + ")" : std::string());
    }
    return 0;
}

int run_activities(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    Args a;
    std::string error;
    if (!parse_args(args, {"--since", "--until", "--sport", "--state", "--limit", "--cursor"}, {"--json"}, a, error) ||
        !a.positional.empty()) {
        err << "fitbridge activities: " << (error.empty() ? "unexpected argument" : error)
            << "\nusage: fitbridge activities [--since DATE] [--until DATE] [--sport FAMILY] [--state STATE] "
               "[--limit N] [--cursor C] [--json]\n";
        return k_usage;
    }
    std::string q;
    for (const auto& [k, v] : a.opts) q += (q.empty() ? "?" : "&") + k.substr(2) + "=" + url_encode(v);
    auto body = call_api(ctx, "GET", "/v1/activities" + q);
    if (!body) {
        err << "fitbridge activities: " << body.error().message << "\n";
        return 1;
    }
    if (has_flag(a, "--json")) {
        out << *body;
        return 0;
    }
    auto doc = json::parse(*body);
    if (!doc || !doc->IsObject()) return 1;
    for (const auto& act : (*doc)["activities"].GetArray()) {
        std::string deliveries;
        for (auto it = act["deliveries"].MemberBegin(); it != act["deliveries"].MemberEnd(); ++it)
            deliveries +=
                fmt::format("{}{}:{}", deliveries.empty() ? "" : " ", it->name.GetString(), it->value.GetString());
        out << fmt::format("{:>6}  {:<20}  {:<8} {:>9}  {:<30}  {}\n", json::get_int(act, "id").value_or(0),
                           str(act, "start_time", "-"), str(act, "sport_family", "-"), km(act, "distance_m"),
                           str(act, "name").substr(0, 30), deliveries);
    }
    if (auto c = json::get_string(*doc, "next_cursor")) out << "more: --cursor " << *c << "\n";
    return 0;
}

int run_activity(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    Args a;
    std::string error;
    if (!parse_args(args, {}, {"--json"}, a, error) || a.positional.size() != 1) {
        err << "fitbridge activity: " << (error.empty() ? "expected one activity id" : error)
            << "\nusage: fitbridge activity [--json] ID\n";
        return k_usage;
    }
    auto body = call_api(ctx, "GET", "/v1/activities/" + url_encode(a.positional[0]));
    if (!body) {
        err << "fitbridge activity: " << body.error().message << "\n";
        return 1;
    }
    if (has_flag(a, "--json")) {
        out << *body;
        return 0;
    }
    auto doc = json::parse(*body);
    if (!doc || !doc->IsObject()) return 1;
    const auto& d = *doc;
    out << fmt::format("activity {}: {}\n", json::get_int(d, "id").value_or(0), str(d, "name"));
    out << fmt::format("  start {}  sport {}  distance {}\n", str(d, "start_time", "-"), str(d, "sport_family", "-"),
                       km(d, "distance_m"));
    if (d["ambiguous_with"].IsArray()) out << "  ambiguous: could also be another known activity; held for review\n";
    out << "  copies:\n";
    for (const auto& l : d["links"].GetArray())
        out << fmt::format("    {:<12} {} ({}{})\n", str(l, "account"), str(l, "remote_id").substr(0, 64),
                           str(l, "matched_by"), json::get_bool(l, "chosen").value_or(false) ? ", delivered copy" : "");
    out << "  deliveries:\n";
    for (const auto& del : d["delivery_details"].GetArray()) {
        out << fmt::format("    {:<12} {}", str(del, "sink"), str(del, "state"));
        if (auto r = json::get_string(del, "remote_id")) out << " " << *r;
        if (auto w = json::get_string(del, "why")) out << ": " << *w;
        if (auto m = json::get_string(del, "message")) out << " (" << *m << ")";
        out << "\n";
    }
    return 0;
}

}  // namespace fitbridge::cli
