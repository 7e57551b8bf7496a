#include "app/routes.hpp"

#include <fmt/format.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "core/time.hpp"
#include "json/json.hpp"
#include "pipeline/reason.hpp"

namespace fitbridge::app {

namespace {

using api::error_response;
using api::json_response;
using api::Request;
using api::Response;

std::optional<int64_t> to_int(const std::string& s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

void time_or_null(json::Builder& b, const std::optional<double>& t) {
    if (t)
        b.string(format_iso8601(*t));
    else
        b.w.Null();
}

void write_job(json::Builder& b, const store::JobRow& j) {
    b.w.StartObject();
    b.field("id", j.id);
    b.field("kind", j.kind);
    b.field("account", j.account_id);
    b.field("route", j.route_id);
    b.field("state", j.state);
    b.field("done", j.done);
    b.key("total");
    if (j.total)
        b.w.Int64(*j.total);
    else
        b.w.Null();
    b.field("error", j.error);
    b.field("created_at", format_iso8601(j.created_at));
    b.field("updated_at", format_iso8601(j.updated_at));
    b.w.EndObject();
}

void write_delivery(json::Builder& b, const store::DeliveryRow& d) {
    b.w.StartObject();
    b.field("id", d.id);
    b.field("sink", d.sink_id);
    b.field("state", d.state);
    b.field("remote_id", d.remote_id);
    b.field("reason", d.reason);
    b.key("why");
    if (d.reason) {
        auto r = pipeline::reason_from_string(*d.reason);
        b.string(r ? pipeline::describe(*r) : std::string_view(*d.reason));
    } else {
        b.w.Null();
    }
    b.field("message", d.message);
    b.field("attempts", d.attempts);
    b.key("retry_at");
    time_or_null(b, d.retry_at);
    b.field("updated_at", format_iso8601(d.updated_at));
    b.w.EndObject();
}

void write_activity_brief(json::Builder& b, const store::ActivityRow& a, engine::Engine& e) {
    b.field("id", a.id);
    b.field("name", a.name);
    b.key("start_time");
    time_or_null(b, a.start_time);
    b.field("sport_family", a.sport_family);
    b.field("elapsed_s", a.elapsed_s);
    b.field("distance_m", a.distance_m);
    b.field("content_sha256", a.content_sha256);
    b.key("ambiguous_with");
    if (a.ambiguous_with)
        b.w.RawValue(a.ambiguous_with->data(), a.ambiguous_with->size(), rapidjson::kArrayType);
    else
        b.w.Null();
    b.key("deliveries");
    b.w.StartObject();
    for (const auto& d : e.ledger().deliveries(a.id)) {
        b.key(d.sink_id);
        b.string(d.state);
    }
    b.w.EndObject();
    // The source accounts that hold a copy (a sink's own copy is a link "delivered"), each once.
    b.key("sources");
    b.w.StartArray();
    std::vector<std::string> sources;
    for (const auto& l : e.ledger().links(a.id))
        if (l.matched_by != "delivered" && std::find(sources.begin(), sources.end(), l.account_id) == sources.end())
            sources.push_back(l.account_id);
    for (const auto& s : sources) b.string(s);
    b.w.EndArray();
}

std::optional<double> time_param(const Request& r, const char* name, std::string& error) {
    auto it = r.query.find(name);
    if (it == r.query.end() || it->second.empty()) return std::nullopt;
    auto t = parse_iso8601(it->second);
    if (!t) error = fmt::format("{}: expected a date or date-time like 2024-01-31 or 2024-01-31T06:00:00Z", name);
    return t;
}

Response activities(Request& r, engine::Engine& e) {
    store::ActivityFilter f;
    std::string error;
    f.since = time_param(r, "since", error);
    f.until = time_param(r, "until", error);
    if (!error.empty()) return error_response(400, "bad_request", error);
    if (auto s = r.query.find("sport"); s != r.query.end() && !s->second.empty()) f.sport_family = s->second;
    if (auto s = r.query.find("state"); s != r.query.end() && !s->second.empty()) {
        static const std::array<std::string, 6> k_states{"planned",   "in_flight", "delivered",
                                                         "duplicate", "skipped",   "failed"};
        if (std::find(k_states.begin(), k_states.end(), s->second) == k_states.end())
            return error_response(400, "bad_request",
                                  "state: one of planned, in_flight, delivered, duplicate, skipped, failed");
        f.delivery_state = s->second;
    }
    if (auto c = r.query.find("cursor"); c != r.query.end() && !c->second.empty()) {
        auto v = to_int(c->second);
        if (!v || *v <= 0) return error_response(400, "bad_request", "cursor: not a cursor this API gave out");
        f.before_id = v;
    }
    if (auto l = r.query.find("limit"); l != r.query.end()) {
        auto v = to_int(l->second);
        if (!v || *v < 1 || *v > 500) return error_response(400, "bad_request", "limit: between 1 and 500");
        f.limit = static_cast<int>(*v);
    }
    auto rows = e.ledger().list_activities(f);
    json::Builder b;
    b.w.StartObject();
    b.key("activities");
    b.w.StartArray();
    for (const auto& a : rows) {
        b.w.StartObject();
        write_activity_brief(b, a, e);
        b.w.EndObject();
    }
    b.w.EndArray();
    b.key("next_cursor");
    if (static_cast<int>(rows.size()) == f.limit)
        b.string(std::to_string(rows.back().id));
    else
        b.w.Null();
    b.w.EndObject();
    return json_response(200, b.str());
}

Response activity(Request& r, engine::Engine& e) {
    auto id = to_int(r.params.at("id"));
    auto a = id ? e.ledger().activity(*id) : std::nullopt;
    if (!a) return error_response(404, "not_found", fmt::format("no activity {}", r.params.at("id")));
    json::Builder b;
    b.w.StartObject();
    write_activity_brief(b, *a, e);
    b.key("links");
    b.w.StartArray();
    for (const auto& l : e.ledger().links(a->id)) {
        b.w.StartObject();
        b.field("account", l.account_id);
        b.field("remote_id", l.remote_id);
        b.field("matched_by", l.matched_by);
        b.field("confidence", l.confidence);
        b.field("content_sha256", l.content_sha256);
        b.field("chosen", a->chosen_link_id && *a->chosen_link_id == l.id);
        b.field("records", l.records);
        b.field("has_power", l.has_power);
        b.field("has_hr", l.has_hr);
        b.w.EndObject();
    }
    b.w.EndArray();
    b.key("delivery_details");
    b.w.StartArray();
    for (const auto& d : e.ledger().deliveries(a->id)) write_delivery(b, d);
    b.w.EndArray();
    b.key("summary");
    b.w.RawValue(a->summary.data(), a->summary.size(), rapidjson::kObjectType);
    b.w.EndObject();
    return json_response(200, b.str());
}

// Credential health: what kind, from where, until when; never the secret.
void write_credentials(json::Builder& b, const engine::AccountView& v) {
    if (!v.credentials) {
        b.w.Null();
        return;
    }
    const auto& c = *v.credentials;
    b.w.StartObject();
    b.field("kind", c.kind);
    b.field("origin", c.origin);
    b.key("expires_at");
    time_or_null(b, c.expires_at);
    b.key("updated_at");
    time_or_null(b, c.updated_at);
    b.key("scope");
    if (c.scope.empty())
        b.w.Null();
    else
        b.string(c.scope);
    b.field("refreshable", c.refreshable);
    b.field("needs_reauth", v.state == "needs_reauth");
    b.w.EndObject();
}

Response accounts(engine::Engine& e) {
    json::Builder b;
    b.w.StartObject();
    b.key("accounts");
    b.w.StartArray();
    for (const auto& v : e.accounts()) {
        b.w.StartObject();
        b.field("id", v.id);
        b.field("provider", v.provider);
        b.field("running", v.running);
        b.field("error", v.create_error);
        b.key("capabilities");
        b.w.StartArray();
        for (auto c : providers::capability_names(v.capabilities)) b.string(c);
        b.w.EndArray();
        b.field("next_poll_in_s",
                v.next_poll_in_s ? std::optional<double>(std::round(*v.next_poll_in_s)) : std::nullopt);
        b.field("state", v.state);
        b.field("last_error", v.last_error);
        b.key("credentials");
        write_credentials(b, v);
        // Used and limit per window and when each resets; absent when the platform announces none.
        if (!v.budget.empty()) {
            b.key("budget");
            b.w.StartObject();
            for (const auto& w : v.budget) {
                b.key(w.name);
                b.w.StartObject();
                b.key("used");
                b.w.Int64(w.used);
                b.key("limit");
                b.w.Int64(w.limit);
                b.key("resets_at");
                b.string(format_iso8601(w.resets_at));
                b.w.EndObject();
            }
            b.w.EndObject();
        }
        if (v.source) {
            b.key("items");
            b.w.StartObject();
            for (const char* s : {"ingested", "skipped", "failed"}) {
                b.key(s);
                b.w.Int64(e.ledger().count_source_items(v.id, s));
            }
            b.w.EndObject();
            b.key("problems");
            b.w.StartArray();
            for (const auto& state : {"failed", "skipped"}) {
                for (const auto& i : e.ledger().source_items(v.id, std::string(state), 50)) {
                    b.w.StartObject();
                    b.field("origin", i.origin);
                    b.field("state", i.state);
                    b.field("reason", i.reason);
                    b.field("detail", i.detail);
                    b.w.EndObject();
                }
            }
            b.w.EndArray();
            b.key("ignored");
            b.w.StartArray();
            for (const auto& ig : v.ignored) {
                b.w.StartObject();
                b.field("origin", ig.origin);
                b.field("reason", ig.reason);
                b.field("detail", ig.detail);
                b.w.EndObject();
            }
            b.w.EndArray();
        }
        b.w.EndObject();
    }
    b.w.EndArray();
    b.w.EndObject();
    return json_response(200, b.str());
}

Response job_created(int64_t id, engine::Engine& e) {
    json::Builder b;
    b.w.StartObject();
    b.key("job");
    write_job(b, *e.ledger().job(id));
    b.w.EndObject();
    auto r = json_response(202, b.str());
    r.headers.emplace_back("Location", fmt::format("/v1/jobs/{}", id));
    return r;
}

Response engine_error(const Error& err) {
    int status = err.code == "engine.unknown_account" || err.code == "engine.unknown_route" ||
                         err.code == "engine.unknown_delivery"
                     ? 404
                     : 409;
    if (err.code == "engine.bad_window") status = 400;
    return error_response(status, err.code.substr(err.code.find('.') + 1), err.message);
}

// POST /v1/accounts/{id}/credentials: a key or token for a platform without a
// usable OAuth flow here (or the result of `fitbridge auth`).
//   {"kind": "api_key", "api_key": "..."}
//   {"kind": "token" | "oauth2", "access_token": "...", "refresh_token": "...",
//    "expires_at": "2026-12-01T12:00:00Z" | 1764590400 (epoch seconds, as Strava
//    answers) | "expires_in": 21600, "scope": "..."}
//   {"kind": "mfa_code", "code": "123456"} (a code a waiting sign-in asked for)
Response set_credentials(Request& r, engine::Engine& e) {
    auto doc = json::parse(r.body);
    if (!doc) return error_response(400, "bad_json", doc.error().message);
    if (!doc->IsObject()) return error_response(400, "bad_request", "expected a JSON object");
    static constexpr std::array<std::string_view, 8> k_fields{
        "kind", "api_key", "access_token", "refresh_token", "expires_at", "expires_in", "scope", "code"};
    // Const iterators: clang 14 finds a mutable member iterator's != ambiguous.
    const rapidjson::Value& fields = *doc;
    for (auto it = fields.MemberBegin(); it != fields.MemberEnd(); ++it) {
        std::string_view k(it->name.GetString(), it->name.GetStringLength());
        if (std::find(k_fields.begin(), k_fields.end(), k) == k_fields.end())
            return error_response(400, "bad_request",
                                  fmt::format("unknown field '{}' ({})", k, fmt::join(k_fields, ", ")));
        const bool numeric = k == "expires_in";
        if (k == "expires_at" && !it->value.IsString() && !it->value.IsNumber())
            return error_response(400, "bad_request", "expires_at: expected a time (ISO 8601 or epoch seconds)");
        if (k != "expires_at" && (numeric ? !it->value.IsNumber() : !it->value.IsString()))
            return error_response(400, "bad_request",
                                  fmt::format("{}: expected a {}", k, numeric ? "number" : "string"));
    }
    net::Credentials c;
    c.kind = json::get_string(*doc, "kind").value_or("");
    auto text = [&](const char* key) { return json::get_string(*doc, key).value_or(""); };
    if (c.kind == "api_key") {
        c.access_token = text("api_key");
        if (c.access_token.empty()) return error_response(400, "bad_request", "api_key: required with kind api_key");
        for (const char* k : {"access_token", "refresh_token", "expires_at", "expires_in"})
            if (doc->HasMember(k))
                return error_response(400, "bad_request", fmt::format("{}: not used with kind api_key", k));
    } else if (c.kind == "token" || c.kind == "oauth2") {
        c.access_token = text("access_token");
        if (c.access_token.empty())
            return error_response(400, "bad_request", fmt::format("access_token: required with kind {}", c.kind));
        if (doc->HasMember("api_key"))
            return error_response(400, "bad_request", fmt::format("api_key: not used with kind {}", c.kind));
        c.refresh_token = text("refresh_token");
        if (doc->HasMember("expires_at") && doc->HasMember("expires_in"))
            return error_response(400, "bad_request", "expires_at, expires_in: give one");
        if (auto at = json::get_string(*doc, "expires_at")) {
            auto t = parse_iso8601(*at);
            if (!t) return error_response(400, "bad_request", "expires_at: expected a time like 2026-12-01T12:00:00Z");
            c.expires_at = SysTime(std::chrono::milliseconds(static_cast<int64_t>(std::llround(*t * 1000))));
        } else if (auto epoch = json::get_number(*doc, "expires_at")) {
            if (!std::isfinite(*epoch) || *epoch <= 0 || *epoch > 1e11)
                return error_response(400, "bad_request", "expires_at: expected epoch seconds");
            c.expires_at = SysTime(std::chrono::milliseconds(static_cast<int64_t>(std::llround(*epoch * 1000))));
        } else if (auto in = json::get_number(*doc, "expires_in")) {
            if (*in <= 0 || *in > 10 * 365 * 86400.0)
                return error_response(400, "bad_request", "expires_in: expected seconds, more than 0");
            c.expires_at =
                SysTime(std::chrono::milliseconds(static_cast<int64_t>(std::llround((e.ledger().now() + *in) * 1000))));
        }
    } else if (c.kind == "mfa_code") {
        // A one-time code for a sign-in the daemon started (Garmin Connect),
        // kept with the credentials until the account's sign-in uses it.
        c.access_token = text("code");
        if (c.access_token.empty()) return error_response(400, "bad_request", "code: required with kind mfa_code");
        for (const char* k : {"api_key", "access_token", "refresh_token", "expires_at", "expires_in", "scope"})
            if (doc->HasMember(k))
                return error_response(400, "bad_request", fmt::format("{}: not used with kind mfa_code", k));
    } else {
        return error_response(400, "bad_request", "kind: required, one of api_key, token, oauth2, mfa_code");
    }
    c.scope = text("scope");
    const std::string id = r.params.at("id");
    if (auto ok = e.set_credentials(id, c); !ok) {
        const auto& err = ok.error();
        if (err.code == "engine.unknown_account" || err.cls == ErrorClass::permanent) return engine_error(err);
        return error_response(500, "store_failed", err.message);
    }
    json::Builder b;
    b.w.StartObject();
    b.field("account", id);
    b.key("credentials");
    bool found = false;
    for (const auto& v : e.accounts()) {
        if (v.id != id) continue;
        write_credentials(b, v);
        found = true;
    }
    if (!found) b.w.Null();
    b.w.EndObject();
    return json_response(200, b.str());
}

Response backfill(Request& r, engine::Engine& e) {
    auto doc = json::parse(r.body.empty() ? std::string_view("{}") : std::string_view(r.body));
    if (!doc) return error_response(400, "bad_json", doc.error().message);
    if (!doc->IsObject()) return error_response(400, "bad_request", "expected a JSON object");
    const rapidjson::Value& fields = *doc;
    for (auto it = fields.MemberBegin(); it != fields.MemberEnd(); ++it) {
        std::string_view k(it->name.GetString(), it->name.GetStringLength());
        if (k != "route" && k != "account" && k != "since" && k != "until")
            return error_response(400, "bad_request",
                                  fmt::format("unknown field '{}' (route, account, since, until)", k));
    }
    auto route = json::get_string(*doc, "route");
    auto account = json::get_string(*doc, "account");
    if (route && account) return error_response(400, "bad_request", "give route or account, not both");
    auto since_text = json::get_string(*doc, "since");
    if (!since_text) return error_response(400, "bad_request", "since: required, a date like 2019-01-01");
    auto since = parse_iso8601(*since_text);
    if (!since) return error_response(400, "bad_request", "since: expected a date like 2019-01-01");
    std::optional<double> until;
    if (auto u = json::get_string(*doc, "until")) {
        until = parse_iso8601(*u);
        if (!until) return error_response(400, "bad_request", "until: expected a date like 2019-12-31");
    }
    auto id = e.start_backfill(route, account, *since, until);
    if (!id) return engine_error(id.error());
    return job_created(*id, e);
}

// GET /v1/events: replay what the client missed (Last-Event-ID or ?after=),
// then stream new events as they happen.
Response events(Request& r, engine::Engine& e) {
    std::optional<int64_t> after;
    auto last = r.header("last-event-id");
    if (last.empty()) {
        if (auto a = r.query.find("after"); a != r.query.end()) last = a->second;
    }
    if (!last.empty()) {
        after = to_int(last);
        if (!after) return error_response(400, "bad_request", "Last-Event-ID: expected an event id");
    }
    Response res;
    res.content_type = "text/event-stream";
    res.body = "retry: 2000\n\n";
    auto format_event = [](const store::EventRow& ev) {
        return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", ev.id, ev.type, ev.data);
    };
    if (after) {
        for (const auto& ev : e.ledger().events_after(*after, 10000)) res.body += format_event(ev);
    }
    res.stream = [&e, format_event](std::shared_ptr<api::EventStream> s) {
        auto id = std::make_shared<int>(0);
        *id = e.add_listener([&e, s, id, format_event](const store::EventRow& ev) {
            if (!s->open()) {
                e.remove_listener(*id);
                return;
            }
            s->send(format_event(ev));
        });
    };
    return res;
}

Response plan(engine::Engine& e) {
    auto p = e.plan();
    json::Builder b;
    b.w.StartObject();
    b.key("plan");
    b.w.StartArray();
    for (const auto& row : p.rows) {
        b.w.StartObject();
        b.field("activity", row.activity);
        b.key("start_time");
        time_or_null(b, row.start_time);
        b.field("sport_family", row.sport_family);
        b.field("sink", row.sink);
        b.field("route", row.route);
        b.field("action", row.action);
        b.field("reason", row.reason);
        b.w.EndObject();
    }
    b.w.EndArray();
    b.key("totals");
    b.w.StartObject();
    b.field("deliver", p.deliver);
    b.field("skip", p.skip);
    b.field("already_delivered", p.already_delivered);
    b.w.EndObject();
    b.w.EndObject();
    return json_response(200, b.str());
}

}  // namespace

void write_health(json::Builder& b, const engine::Health& h) {
    b.field("state", h.degraded() ? "degraded" : "ok");
    b.key("loops");
    b.w.StartArray();
    for (const auto& t : h.troubles) {
        b.w.StartObject();
        b.field("name", t.name);
        b.field("core", t.core);
        b.field("state", t.down ? "down" : "restarted");
        b.field("reason", t.reason);
        b.field("failures", t.failures);
        b.field("seconds_since_failure", std::round(t.seconds_since_failure * 10) / 10);
        b.w.EndObject();
    }
    b.w.EndArray();
}

api::Response healthz(const engine::Health& h) {
    if (!h.core_down) return json_response(200, R"({"status":"ok"})");
    std::vector<std::string> down;
    for (const auto& t : h.troubles)
        if (t.core && t.down) down.push_back(fmt::format("{} failed: {}", t.name, t.reason));
    json::Builder b;
    b.w.StartObject();
    b.field("status", "degraded");
    b.key("reason");
    b.string(fmt::format("{}", fmt::join(down, "; ")));
    b.w.EndObject();
    return json_response(503, b.str());
}

void register_sync_routes(api::Router& router, engine::Engine& e) {
    router.add("GET", "/v1/accounts", [&e](Request&) { return accounts(e); });
    router.add("POST", "/v1/accounts/{id}/sync", [&e](Request& r) {
        auto id = e.trigger_sync(r.params.at("id"));
        if (!id) return engine_error(id.error());
        return job_created(*id, e);
    });
    router.add("POST", "/v1/accounts/{id}/credentials", [&e](Request& r) { return set_credentials(r, e); });
    router.add("POST", "/v1/backfill", [&e](Request& r) { return backfill(r, e); });
    router.add("GET", "/v1/jobs", [&e](Request&) {
        json::Builder b;
        b.w.StartObject();
        b.key("jobs");
        b.w.StartArray();
        for (const auto& j : e.ledger().jobs(100)) write_job(b, j);
        b.w.EndArray();
        b.w.EndObject();
        return json_response(200, b.str());
    });
    router.add("GET", "/v1/jobs/{id}", [&e](Request& r) {
        auto id = to_int(r.params.at("id"));
        auto j = id ? e.ledger().job(*id) : std::nullopt;
        if (!j) return error_response(404, "not_found", fmt::format("no job {}", r.params.at("id")));
        json::Builder b;
        write_job(b, *j);
        return json_response(200, b.str());
    });
    router.add("GET", "/v1/activities", [&e](Request& r) { return activities(r, e); });
    router.add("GET", "/v1/activities/{id}", [&e](Request& r) { return activity(r, e); });
    router.add("POST", "/v1/deliveries/{id}/retry", [&e](Request& r) {
        auto id = to_int(r.params.at("id"));
        if (!id) return error_response(404, "not_found", fmt::format("no delivery {}", r.params.at("id")));
        auto res = e.retry_delivery(*id);
        if (!res) return engine_error(res.error());
        json::Builder b;
        b.w.StartObject();
        b.key("delivery");
        write_delivery(b, *e.ledger().delivery(*id));
        b.w.EndObject();
        return json_response(202, b.str());
    });
    router.add("POST", "/v1/plan", [&e](Request&) { return plan(e); });
    router.add("GET", "/v1/events", [&e](Request& r) { return events(r, e); });
}

}  // namespace fitbridge::app
