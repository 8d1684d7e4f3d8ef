-- Campaigns: one row per run of a campaign, its control group, the assignments senders read,
-- the suppression list, recommendation evaluation, and the per-segment BI summary.
-- Every assignment row carries campaign_id, run_id and the profile snapshot date it was built from.
-- History: a new run of a campaign keeps the earlier runs' rows; the latest published run
-- (max published_at) is the current one (view campaign_runs_current and the *_current views).

CREATE TABLE journey.campaigns (
    campaign_id      text             NOT NULL,
    run_id           text             NOT NULL,
    snapshot_date    date             NOT NULL,
    name             text             NOT NULL,
    objective        text             NOT NULL,
    params           jsonb            NOT NULL,
    signals          jsonb            NOT NULL,  -- which inputs drove the decisions (model or fallback)
    budget           double precision NOT NULL,
    budget_used      double precision NOT NULL,
    expected_value   double precision NOT NULL,
    value_upper_bound double precision NOT NULL,  -- LP bound: no allocation could do better
    eligible_users   bigint           NOT NULL,
    holdout_users    bigint           NOT NULL,
    start_time       timestamptz      NOT NULL,
    end_time         timestamptz      NOT NULL,
    published_at     timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, run_id)
);

-- The latest published run of each campaign.
CREATE VIEW journey.campaign_runs_current AS
SELECT DISTINCT ON (campaign_id) campaign_id, run_id, snapshot_date, published_at
FROM journey.campaigns
ORDER BY campaign_id, published_at DESC, run_id DESC;

CREATE TABLE journey.campaign_holdout (
    campaign_id   text             NOT NULL,
    run_id        text             NOT NULL,
    snapshot_date date             NOT NULL,
    user_id       text             NOT NULL,
    segment_id    integer,
    draw          double precision NOT NULL,  -- sha256(campaign_id:user_id) as [0, 1); held out when < fraction
    PRIMARY KEY (campaign_id, run_id, user_id)
);

-- Audience accounting per segment: eligible (treated), holdout, or excluded with a reason.
CREATE TABLE journey.campaign_audience (
    campaign_id   text    NOT NULL,
    run_id        text    NOT NULL,
    snapshot_date date    NOT NULL,
    segment_id    integer,
    segment_name  text,
    status        text    NOT NULL CHECK (status IN ('treated', 'holdout', 'excluded')),
    reason        text    NOT NULL,           -- exclusion reason, or 'eligible'
    users         bigint  NOT NULL
);
CREATE INDEX campaign_audience_run ON journey.campaign_audience (campaign_id, run_id);

CREATE TABLE journey.coupon_assignments (
    campaign_id    text             NOT NULL,
    run_id         text             NOT NULL,
    snapshot_date  date             NOT NULL,
    user_id        text             NOT NULL,
    segment_id     integer,
    offer_name     text             NOT NULL,
    kind           text             NOT NULL,
    offer_value    double precision NOT NULL,
    min_spend      double precision NOT NULL,
    coupon_code    text             NOT NULL,
    channel        text             NOT NULL,
    expected_cost  double precision NOT NULL,
    expected_value double precision NOT NULL,
    reason         jsonb            NOT NULL,  -- the inputs behind the choice
    PRIMARY KEY (campaign_id, run_id, user_id, offer_name)
);
CREATE UNIQUE INDEX coupon_assignments_code ON journey.coupon_assignments (run_id, coupon_code);

CREATE TABLE journey.ad_assignments (
    campaign_id    text        NOT NULL,
    run_id         text        NOT NULL,
    snapshot_date  date        NOT NULL,
    user_id        text        NOT NULL,
    segment_id     integer,
    channel        text        NOT NULL,
    creative_id    text        NOT NULL,
    send_at        timestamptz NOT NULL,
    coupon_code    text,
    reason         jsonb       NOT NULL,
    PRIMARY KEY (campaign_id, run_id, user_id)
);
CREATE INDEX ad_assignments_send ON journey.ad_assignments (user_id, send_at);

CREATE TABLE journey.recommendation_assignments (
    campaign_id    text             NOT NULL,
    run_id         text             NOT NULL,
    snapshot_date  date             NOT NULL,
    user_id        text             NOT NULL,
    rank           smallint         NOT NULL,
    product_id     text             NOT NULL,
    category       text,
    score          double precision NOT NULL,
    source         text             NOT NULL,  -- hybrid | popular (cold start)
    PRIMARY KEY (campaign_id, run_id, user_id, rank)
);

-- Users who must not be contacted (opt-out, complaint, legal hold); expires_at NULL = for good.
CREATE TABLE journey.suppression_list (
    user_id     text        NOT NULL,
    reason      text        NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    PRIMARY KEY (user_id, reason)
);

CREATE TABLE journey.recommendation_eval (
    campaign_id   text             NOT NULL,
    run_id        text             NOT NULL,
    snapshot_date date             NOT NULL,
    model         text             NOT NULL,  -- hybrid | popularity
    k             integer          NOT NULL,
    precision_at_k double precision NOT NULL,
    recall_at_k   double precision NOT NULL,
    ndcg_at_k     double precision NOT NULL,
    coverage      double precision NOT NULL,  -- share of the catalog recommended to someone
    users         bigint           NOT NULL,
    split_date    date             NOT NULL,  -- train: events before; test: events on/after
    PRIMARY KEY (campaign_id, run_id, model)
);

CREATE VIEW journey.coupon_assignments_current AS
SELECT a.* FROM journey.coupon_assignments a JOIN journey.campaign_runs_current c USING (campaign_id, run_id);
CREATE VIEW journey.ad_assignments_current AS
SELECT a.* FROM journey.ad_assignments a JOIN journey.campaign_runs_current c USING (campaign_id, run_id);
CREATE VIEW journey.recommendation_assignments_current AS
SELECT a.* FROM journey.recommendation_assignments a JOIN journey.campaign_runs_current c USING (campaign_id, run_id);

-- Per campaign (current run) and segment: audience, exclusions by reason, coupons, budget, value, ads.
CREATE VIEW journey.bi_campaign_summary AS
WITH audience AS (
    SELECT campaign_id, run_id, segment_id, max(segment_name) AS segment_name,
           sum(users) FILTER (WHERE status <> 'excluded') AS eligible,
           sum(users) FILTER (WHERE status = 'holdout') AS holdout,
           sum(users) FILTER (WHERE status = 'excluded') AS excluded,
           coalesce(jsonb_object_agg(reason, users) FILTER (WHERE status = 'excluded'), '{}'::jsonb)
               AS excluded_by_reason
    FROM journey.campaign_audience GROUP BY campaign_id, run_id, segment_id
), offers AS (
    SELECT campaign_id, run_id, segment_id, offer_name, count(*) AS coupons,
           sum(expected_cost) AS cost, sum(expected_value) AS value
    FROM journey.coupon_assignments GROUP BY campaign_id, run_id, segment_id, offer_name
), coupons AS (
    SELECT campaign_id, run_id, segment_id, sum(coupons) AS coupons,
           jsonb_object_agg(offer_name, coupons) AS coupons_by_offer,
           sum(cost) AS budget_used, sum(value) AS expected_value
    FROM offers GROUP BY campaign_id, run_id, segment_id
), channels AS (
    SELECT campaign_id, run_id, segment_id, channel, count(*) AS ads
    FROM journey.ad_assignments GROUP BY campaign_id, run_id, segment_id, channel
), ads AS (
    SELECT campaign_id, run_id, segment_id, sum(ads) AS ads, jsonb_object_agg(channel, ads) AS ads_by_channel
    FROM channels GROUP BY campaign_id, run_id, segment_id
)
SELECT r.campaign_id, r.run_id, r.snapshot_date, a.segment_id, a.segment_name,
       coalesce(a.eligible, 0) AS eligible, coalesce(a.excluded, 0) AS excluded, a.excluded_by_reason,
       coalesce(a.holdout, 0) AS holdout,
       coalesce(c.coupons, 0) AS coupons, coalesce(c.coupons_by_offer, '{}'::jsonb) AS coupons_by_offer,
       coalesce(c.budget_used, 0) AS budget_used, coalesce(c.expected_value, 0) AS expected_value,
       coalesce(d.ads, 0) AS ads, coalesce(d.ads_by_channel, '{}'::jsonb) AS ads_by_channel
FROM journey.campaign_runs_current r
JOIN audience a USING (campaign_id, run_id)
LEFT JOIN coupons c USING (campaign_id, run_id, segment_id)
LEFT JOIN ads d USING (campaign_id, run_id, segment_id);

