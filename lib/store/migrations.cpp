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

constexpr std::array<Migration, 1> k_migrations{{
    {1, "initial schema", k_initial},
}};

}  // namespace

std::span<const Migration> migrations() { return k_migrations; }

}  // namespace fitbridge::store
