#include "cli/open.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <unistd.h>

#include <fmt/format.h>

#include "json/json.hpp"

extern char** environ;

namespace fitbridge::cli {

namespace {

constexpr int k_usage = 2;

// The program that hands a URL to the desktop's browser, when there is a
// desktop: xdg-open needs a display (on a headless box it would start a
// text browser in this terminal); Debian's `open` is openvt, so `open` is
// only used on macOS.
std::optional<std::string> opener(const ClientContext& ctx) {
#ifdef __APPLE__
    (void)ctx;
    const char* name = "open";
#else
    if (!ctx.env("DISPLAY") && !ctx.env("WAYLAND_DISPLAY")) return std::nullopt;
    const char* name = "xdg-open";
#endif
    auto path = ctx.env("PATH").value_or("/usr/bin:/bin");
    for (size_t start = 0; start <= path.size();) {
        auto colon = path.find(':', start);
        if (colon == std::string::npos) colon = path.size();
        auto dir = path.substr(start, colon - start);
        start = colon + 1;
        if (dir.empty()) continue;
        auto candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return std::nullopt;
}

// Starts `program url` detached from this terminal's input and output; does
// not wait for it (a browser may keep running).
bool launch(const std::string& program, const std::string& url) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    for (int fd : {0, 1, 2})
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    std::vector<char*> argv{const_cast<char*>(program.c_str()), const_cast<char*>(url.c_str()), nullptr};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    return rc == 0;
}

}  // namespace

std::optional<std::string> page_url(const std::string& listen) {
    if (listen.rfind("unix:", 0) == 0) return std::nullopt;
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    auto host = listen.substr(0, colon);
    auto port = listen.substr(colon + 1);
    if (host == "0.0.0.0" || host.empty()) host = "127.0.0.1";
    if (host == "[::]" || host == "[0:0:0:0:0:0:0:0]") host = "[::1]";
    return fmt::format("http://{}:{}/", host, port);
}

int run_open(std::vector<std::string> args, ClientContext ctx, std::ostream& out, std::ostream& err) {
    bool browser = true;
    for (const auto& a : args) {
        if (a == "--no-browser") {
            browser = false;
        } else {
            err << "fitbridge open: unknown argument '" << a << "'\nusage: fitbridge open [--no-browser]\n";
            return k_usage;
        }
    }
    auto loaded = load_client_config(ctx);
    if (!loaded) {
        err << "fitbridge open: " << loaded.error().message << "\n";
        return 1;
    }
    auto base = page_url(loaded->config.api.listen);
    if (!base) {
        err << "fitbridge open: the daemon listens on " << loaded->config.api.listen
            << ", which a browser cannot reach; give api.listen a host:port (ssh -L can forward a port from a "
               "headless box)\n";
        return 1;
    }
    auto body = call_api(ctx, "POST", "/v1/signin-codes");
    if (!body) {
        err << "fitbridge open: " << body.error().message << "\n";
        return 1;
    }
    auto doc = json::parse(*body);
    auto code = doc && doc->IsObject() ? json::get_string(*doc, "code") : std::nullopt;
    if (!code) {
        err << "fitbridge open: unexpected answer from the daemon\n";
        return 1;
    }
    auto lifetime = doc->IsObject() ? json::get_int(*doc, "expires_in_s").value_or(120) : 120;
    const auto url = *base + "#code=" + *code;
    out << fmt::format("Open this link within {} s; it signs one browser in, once:\n  {}\n", lifetime, url);
    if (!browser) return 0;
    auto program = opener(ctx);
    if (!program) {
        const auto& listen = loaded->config.api.listen;
        out << fmt::format(
            "No desktop browser to start here: open the link yourself. From another machine, forward the port "
            "first (ssh -L {0}:127.0.0.1:{0} <this host>) and open the link there.\n",
            listen.substr(listen.rfind(':') + 1));
        return 0;
    }
    if (launch(*program, url))
        out << "Opening it with " << *program << ".\n";
    else
        out << "Could not start " << *program << ": open the link yourself.\n";
    return 0;
}

}  // namespace fitbridge::cli
