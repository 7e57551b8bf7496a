// libFuzzer target for the control API's request handling: raw bytes through
// the server's own parser, admission and router (api::handle_request_bytes),
// with a routing table shaped like the daemon's. Besides not crashing: every
// answer has a valid status, and every JSON answer is valid JSON.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/server.hpp"
#include "json/json.hpp"

namespace {

using fitbridge::api::Request;
using fitbridge::api::Response;

// Echoes what routing and parsing produced, so odd params and bodies also go
// through the JSON writer.
Response echo(Request& r) {
    fitbridge::json::Builder b;
    b.w.StartObject();
    b.key("path");
    b.string(r.path);
    for (const auto& [k, v] : r.params) {
        b.key(k);
        b.string(v);
    }
    for (const auto& [k, v] : r.query) {
        b.key("q_" + k);
        b.string(v);
    }
    b.key("body_valid");
    b.w.Bool(r.body.empty() || fitbridge::json::parse(r.body).ok());
    b.w.EndObject();
    return fitbridge::api::json_response(200, b.str());
}

const fitbridge::api::Router& router() {
    static const fitbridge::api::Router r = [] {
        fitbridge::api::Router t;
        t.add("GET", "/healthz", echo, true);
        for (const char* p : {"/v1/status", "/v1/config", "/v1/accounts", "/v1/jobs", "/v1/jobs/{id}", "/v1/activities",
                              "/v1/activities/{id}", "/v1/events", "/metrics"})
            t.add("GET", p, echo);
        for (const char* p : {"/v1/accounts/{id}/sync", "/v1/accounts/{id}/credentials", "/v1/backfill",
                              "/v1/deliveries/{id}/retry", "/v1/plan"})
            t.add("POST", p, echo);
        return t;
    }();
    return r;
}

const fitbridge::api::ServerOptions& options() {
    static const fitbridge::api::ServerOptions o = [] {
        fitbridge::api::ServerOptions s;
        s.max_body_bytes = 4096;
        s.guard.token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        s.guard.allowed_hosts = {"fitbridge.lan"};
        s.guard.allowed_origins = {"http://localhost:8787"};
        return s;
    }();
    return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto res = fitbridge::api::handle_request_bytes(std::string_view(reinterpret_cast<const char*>(data), size),
                                                    router(), options());
    if (!res) return 0;
    if (res->status < 200 || res->status > 599) __builtin_trap();
    if (res->content_type == "application/json" && !res->body.empty() && !fitbridge::json::parse(res->body).ok())
        __builtin_trap();
    return 0;
}
