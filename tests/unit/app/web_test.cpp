// The status page's routes: the embedded files, their headers, and that
// serving them without the token leaves the API's admission as it was.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "api/server.hpp"
#include "app/web.hpp"

namespace fitbridge::app {
namespace {

constexpr const char* k_token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
constexpr const char* k_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string source_file(const std::string& name) {
    std::ifstream in(std::string(FITBRIDGE_SOURCE_DIR) + "/web/" + name, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string header(const api::Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers)
        if (k == name) return v;
    return "<absent>";
}

class WebRoutes : public ::testing::Test {
protected:
    void SetUp() override {
        register_web_routes(m_router);
        m_router.add("GET", "/v1/status", [](api::Request&) { return api::json_response(200, R"({"state":"ok"})"); });
        m_options.guard.token = k_token;
    }
    api::Response get(const std::string& target, const std::string& extra = "") {
        auto r = api::handle_request_bytes("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1:8787\r\n" + extra + "\r\n",
                                           m_router, m_options);
        EXPECT_TRUE(r.has_value());
        return r ? *r : api::Response{};
    }
    api::Router m_router;
    api::ServerOptions m_options;
};

TEST_F(WebRoutes, EmbedsEveryFileOfWebByteForByte) {
    std::vector<std::string> names;
    for (const auto& a : web_assets()) {
        names.emplace_back(a.name);
        EXPECT_EQ(a.bytes, source_file(std::string(a.name))) << a.name;
    }
    EXPECT_EQ(names, (std::vector<std::string>{"app.css", "app.js", "index.html"}));
}

TEST_F(WebRoutes, ThePageIsServedWithoutTheTokenWithItsSecurityHeaders) {
    for (const auto& [target, type, file] : {std::tuple{"/", "text/html; charset=utf-8", "index.html"},
                                             std::tuple{"/index.html", "text/html; charset=utf-8", "index.html"},
                                             std::tuple{"/app.js", "text/javascript; charset=utf-8", "app.js"},
                                             std::tuple{"/app.css", "text/css; charset=utf-8", "app.css"}}) {
        SCOPED_TRACE(target);
        auto r = get(target);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.content_type, type);
        EXPECT_EQ(r.body, source_file(file));
        EXPECT_EQ(header(r, "Content-Security-Policy"), k_csp);
        EXPECT_EQ(header(r, "X-Frame-Options"), "DENY");
        EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
        EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer");
    }
}

TEST_F(WebRoutes, HeadAnswersWithoutABody) {
    auto r = api::handle_request_bytes("HEAD / HTTP/1.1\r\nHost: localhost:8787\r\n\r\n", m_router, m_options);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "");
    EXPECT_EQ(header(*r, "X-Frame-Options"), "DENY");
}

TEST_F(WebRoutes, TheApiStillNeedsTheToken) {
    auto r = get("/v1/status");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body,
              R"j({"error":{"code":"unauthorized","message":"missing bearer token (see <state dir>/api-token)"}})j");
    r = get("/v1/status", "Authorization: Bearer wrong\r\n");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.body, R"({"error":{"code":"unauthorized","message":"wrong bearer token"}})");
    // A path that is neither a page file nor an API route reveals nothing without the token.
    EXPECT_EQ(get("/favicon.ico").status, 401);
    EXPECT_EQ(get("/web/app.js").status, 401);
}

TEST_F(WebRoutes, ThePagesOwnOriginMayCallTheApi) {
    const std::string auth = std::string("Authorization: Bearer ") + k_token + "\r\n";
    for (const char* origin : {"http://127.0.0.1:8787", "http://localhost:8787", "http://[::1]:8787"}) {
        SCOPED_TRACE(origin);
        auto r = get("/v1/status", auth + "Origin: " + origin + "\r\n");
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, R"({"state":"ok"})");
    }
}

TEST_F(WebRoutes, AForeignOriginGets403OnThePageAndTheApi) {
    const std::string auth = std::string("Authorization: Bearer ") + k_token + "\r\n";
    for (const char* origin : {"https://evil.example", "http://127.0.0.1.evil.example:8787", "null"}) {
        SCOPED_TRACE(origin);
        auto r = get("/v1/status", auth + "Origin: " + origin + "\r\n");
        EXPECT_EQ(r.status, 403);
        EXPECT_EQ(r.body, std::string(R"({"error":{"code":"forbidden_origin","message":"Origin ')") + origin +
                              R"(' may not use this API"}})");
        EXPECT_EQ(get("/", "Origin: " + std::string(origin) + "\r\n").status, 403);
    }
    // DNS rebinding: a foreign Host is refused before the page is served.
    auto r = api::handle_request_bytes("GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", m_router, m_options);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 421);
}

TEST_F(WebRoutes, ThePageLoadsNothingInlineAndNothingFromElsewhere) {
    const auto html = source_file("index.html");
    EXPECT_NE(html.find(R"(<script src="/app.js" defer></script>)"), std::string::npos);
    // Exactly one script element, and it has a src: no inline script.
    size_t scripts = 0;
    for (size_t p = 0; (p = html.find("<script", p)) != std::string::npos; ++p) ++scripts;
    EXPECT_EQ(scripts, 1u);
    EXPECT_EQ(html.find("style="), std::string::npos);
    EXPECT_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+\s*=)"))) << "an inline event handler";
    EXPECT_EQ(html.find("://"), std::string::npos);
    EXPECT_EQ(source_file("app.css").find("url("), std::string::npos);
    const auto js = source_file("app.js");
    EXPECT_EQ(js.find("innerHTML"), std::string::npos);
    EXPECT_EQ(js.find("eval("), std::string::npos);
    // The one absolute URL in the script is SVG's namespace name, which is never fetched.
    size_t urls = 0;
    for (size_t p = 0; (p = js.find("://", p)) != std::string::npos; ++p) {
        EXPECT_EQ(js.compare(p - 4, 26, "http://www.w3.org/2000/svg"), 0) << js.substr(p - 8, 40);
        ++urls;
    }
    EXPECT_EQ(urls, 1u);
}

}  // namespace
}  // namespace fitbridge::app
