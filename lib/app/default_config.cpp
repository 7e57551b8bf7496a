#include "app/default_config.hpp"

namespace fitbridge::app {

config::Config embedded_default(const config::ResolvedPaths& paths) {
    // A folder inbox routed to a local archive: drop a FIT/GPX/TCX file into
    // <data>/inbox and it lands, deduplicated, in <data>/archive.
    config::Config c;
    config::AccountConfig inbox;
    inbox.id = "inbox";
    inbox.provider = "folder";
    inbox.poll_interval_s = 60;
    inbox.options["path"] = (paths.data_dir / "inbox").string();
    inbox.options["settle_time"] = "2";
    config::AccountConfig archive;
    archive.id = "archive";
    archive.provider = "archive";
    archive.options["root"] = (paths.data_dir / "archive").string();
    c.accounts = {inbox, archive};
    config::RouteConfig route;
    route.id = "inbox-to-archive";
    route.from = {"inbox"};
    route.to = {"archive"};
    c.routes = {route};
    return c;
}

}  // namespace fitbridge::app
