-- Foundation tables: ingest accounting, profiles, segments and their history.
-- Every row carries the run_id that wrote it and its snapshot (logical) date.

CREATE TABLE journey.ingest_runs (
    run_id        text        NOT NULL,
    dataset       text        NOT NULL,
    source        text        NOT NULL,
    format        text        NOT NULL,
    ingested_at   timestamptz NOT NULL,
    rows_read     bigint      NOT NULL,
    curated       bigint      NOT NULL,
    quarantined   bigint      NOT NULL,
    duplicates    bigint      NOT NULL,
    min_event_date date,
    max_event_date date,
    PRIMARY KEY (run_id, dataset)
);

CREATE TABLE journey.quarantine_summary (
    run_id   text   NOT NULL,
    dataset  text   NOT NULL,
    reason   text   NOT NULL,
    rows     bigint NOT NULL,
    PRIMARY KEY (run_id, dataset, reason)
);

-- Current profile per user (the latest published snapshot).
CREATE TABLE journey.user_profiles (
    user_id                text             NOT NULL PRIMARY KEY,
    snapshot_date          date             NOT NULL,
    run_id                 text             NOT NULL,
    first_seen             timestamptz,
    last_seen              timestamptz,
    tenure_days            integer,
    days_since_last_event  integer,
    recency_days           integer,
    frequency              bigint           NOT NULL,
    monetary               double precision NOT NULL,
    avg_order_value        double precision,
    r_score                smallint         NOT NULL,
    f_score                smallint         NOT NULL,
    m_score                smallint         NOT NULL,
    rfm_segment            text             NOT NULL,
    sessions               bigint           NOT NULL,
    views                  bigint           NOT NULL,
    searches               bigint           NOT NULL,
    carts                  bigint           NOT NULL,
    purchases              bigint           NOT NULL,
    coupon_redemptions     bigint           NOT NULL,
    cart_abandonment_rate  double precision,
    conversion_rate        double precision,
    coupon_usage_rate      double precision,
    category_affinity      jsonb            NOT NULL,
    top_categories         text[]           NOT NULL,
    brand_concentration    double precision,
    preferred_hour         smallint,
    lifecycle_stage        text             NOT NULL
);

-- Current segment per user.
CREATE TABLE journey.user_segments (
    user_id       text     NOT NULL PRIMARY KEY,
    segment_id    integer  NOT NULL,
    segment_name  text     NOT NULL,
    snapshot_date date     NOT NULL,
    run_id        text     NOT NULL
);

CREATE TABLE journey.segment_history (
    snapshot_date date    NOT NULL,
    user_id       text    NOT NULL,
    segment_id    integer NOT NULL,
    run_id        text    NOT NULL,
    PRIMARY KEY (snapshot_date, user_id)
);

CREATE TABLE journey.segment_summary (
    snapshot_date     date             NOT NULL,
    segment_id        integer          NOT NULL,
    segment_name      text             NOT NULL,
    users             bigint           NOT NULL,
    user_share        double precision NOT NULL,
    revenue           double precision NOT NULL,
    revenue_share     double precision NOT NULL,
    avg_recency_days  double precision,
    avg_frequency     double precision,
    avg_monetary      double precision,
    avg_conversion_rate double precision,
    top_category      text,
    centroid          jsonb            NOT NULL,
    k                 integer          NOT NULL,
    silhouette        double precision NOT NULL,
    run_id            text             NOT NULL,
    PRIMARY KEY (snapshot_date, segment_id)
);

CREATE TABLE journey.segment_transitions (
    snapshot_date          date    NOT NULL,
    previous_snapshot_date date,
    from_segment_id        integer,          -- NULL: user had no segment before (new)
    to_segment_id          integer,          -- NULL: user has no segment now (left)
    users                  bigint  NOT NULL,
    run_id                 text    NOT NULL
);
CREATE INDEX segment_transitions_snapshot ON journey.segment_transitions (snapshot_date);
