#include <array>

#include "store/store.hpp"

namespace fitbridge::store {

namespace {

// Times are Unix seconds (REAL where sub-second matters). Ids of remote
// objects are TEXT whatever the platform uses.
constexpr std::string_view k_initial = R"sql(
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'ok',      -- ok | needs_reauth | error | disabled
    last_error    TEXT,
    last_poll_at  REAL,
    blocked_until REAL,                             -- rate-limit block, survives restarts
    created_at    REAL NOT NULL
);

CREATE TABLE credentials (
    account_id    TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,                    -- api_key | oauth2 | basic | token
    access_token  TEXT,
    refresh_token TEXT,
    expires_at    REAL,
    scope         TEXT,
    updated_at    REAL NOT NULL
);

CREATE TABLE cursors (
    account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,                      -- sync | backfill | deliver
    account_id  TEXT REFERENCES accounts(id) ON DELETE CASCADE,
    route_id    TEXT,
    state       TEXT NOT NULL,                      -- queued | running | done | failed | cancelled
    params      TEXT NOT NULL DEFAULT '{}',         -- JSON
    done        INTEGER NOT NULL DEFAULT 0,
    total       INTEGER,
    error       TEXT,
    created_at  REAL NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE INDEX jobs_state ON jobs(state);

CREATE TABLE activities (
    id             INTEGER PRIMARY KEY,
    content_sha256 TEXT NOT NULL UNIQUE,            -- identity of the chosen original
    start_time     REAL,
    sport_family   TEXT,
    elapsed_s      REAL,
    distance_m     REAL,
    name           TEXT,
    summary        TEXT NOT NULL,                   -- activity-summary.md JSON
    original_path  TEXT,                            -- content-addressed file under the state dir
    created_at     REAL NOT NULL
);
CREATE INDEX activities_start ON activities(start_time);

CREATE TABLE links (
    id          INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    remote_id   TEXT NOT NULL,
    matched_by  TEXT NOT NULL,                      -- origin | content_hash | time | manual
    confidence  REAL NOT NULL DEFAULT 1.0,
    content_sha256 TEXT,
    created_at  REAL NOT NULL,
    UNIQUE (account_id, remote_id)
);
CREATE INDEX links_activity ON links(activity_id);

CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
    sink_id     TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    state       TEXT NOT NULL,                      -- planned | in_flight | delivered | duplicate | skipped | failed
    remote_id   TEXT,
    reason      TEXT,
    message     TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    retry_at    REAL,
    updated_at  REAL NOT NULL,
    UNIQUE (activity_id, sink_id)
);
CREATE INDEX deliveries_state ON deliveries(state);
)sql";

// The sync engine's ledger: what each source offered and what became of it,
// each copy's original file, richness facts for choosing the copy to deliver,
// ambiguous matches, and the event log behind GET /v1/events.
constexpr std::string_view k_ledger = R"sql(
CREATE TABLE source_items (
    account_id  TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    remote_id   TEXT NOT NULL,
    state       TEXT NOT NULL,                      -- ingested | failed | skipped
    reason      TEXT,                               -- a pipeline reason code
    detail      TEXT,
    origin      TEXT,
    name        TEXT,
    activity_id INTEGER REFERENCES activities(id) ON DELETE SET NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    seen_at     REAL NOT NULL,
    PRIMARY KEY (account_id, remote_id)
);
CREATE INDEX source_items_state ON source_items(state);

ALTER TABLE links ADD COLUMN original_path TEXT;
ALTER TABLE links ADD COLUMN records INTEGER NOT NULL DEFAULT 0;
ALTER TABLE links ADD COLUMN has_power INTEGER NOT NULL DEFAULT 0;
ALTER TABLE links ADD COLUMN has_hr INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activities ADD COLUMN ambiguous_with TEXT;  -- JSON array of activity ids, when matching was ambiguous
ALTER TABLE activities ADD COLUMN chosen_link_id INTEGER;

CREATE TABLE events (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    at   REAL NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL                               -- JSON
);
)sql";

// History backfilled per route and source (a route that is new, or whose
// since moved earlier, backfills [since, covered) once), and where a backfill
// job is in its listing, so that it resumes there after a restart.
constexpr std::string_view k_route_backfills = R"sql(
CREATE TABLE route_backfills (
    route_id   TEXT NOT NULL,
    account_id TEXT NOT NULL,
    since      REAL NOT NULL,                        -- history from here on has a job (or needs none)
    job_id     INTEGER,                              -- the last job started for it; NULL when none was needed
    updated_at REAL NOT NULL,
    PRIMARY KEY (route_id, account_id)
);

ALTER TABLE jobs ADD COLUMN resume_account TEXT;    -- the account a backfill job is on
ALTER TABLE jobs ADD COLUMN resume_cursor TEXT;     -- the paging cursor after its last completed page
ALTER TABLE jobs ADD COLUMN resume_done INTEGER;    -- items done when that page completed
)sql";

// Every ingest asks whether its content is known already (a copy linked
// from another source, Ledger::activity_by_content): without this index each
// question read the whole links table, a cost growing with the history.
constexpr std::string_view k_links_by_content = R"sql(
CREATE INDEX links_content ON links(content_sha256);
)sql";

constexpr std::array<Migration, 4> k_migrations{{
    {1, "initial schema", k_initial},
    {2, "sync ledger", k_ledger},
    {3, "route backfills and job positions", k_route_backfills},
    {4, "links by content", k_links_by_content},
}};

}  // namespace

std::span<const Migration> migrations() { return k_migrations; }

}  // namespace fitbridge::store
