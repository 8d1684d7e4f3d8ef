-- The next-best-action HTTP API (journey serve, issue #22): its API keys and the exposures
-- senders report. A key is stored only as the sha256 of its token (the token is shown once, at
-- creation); a revoked key keeps its row (revoked_at set) so `journey api-keys list` shows it.
CREATE TABLE journey.api_keys (
    key_id      text        NOT NULL PRIMARY KEY,  -- public part of the token, shown by list/revoke
    name        text        NOT NULL,
    key_hash    text        NOT NULL UNIQUE,       -- hex sha256 of the whole token
    scopes      text[]      NOT NULL CHECK (scopes <@ ARRAY['read', 'write']::text[] AND cardinality(scopes) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- What a sender actually showed or sent (POST /v1/exposures), beside what was assigned: the
-- input of an exposure-based estimate next to the assignment-based one of campaign results.
CREATE TABLE journey.exposures (
    exposure_id  bigserial   PRIMARY KEY,
    user_id      text        NOT NULL,
    campaign_id  text        NOT NULL,
    run_id       text,
    channel      text        NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('shown', 'sent')),
    exposed_at   timestamptz NOT NULL,
    creative_id  text,
    coupon_code  text,
    key_id       text        NOT NULL,             -- the API key that reported it
    received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX exposures_campaign ON journey.exposures (campaign_id, exposed_at);
CREATE INDEX exposures_user ON journey.exposures (user_id);
