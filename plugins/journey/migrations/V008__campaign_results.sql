-- Campaign results (DAG journey_campaign_results, campaigns/results.py): per campaign run and
-- measurement, the treated and the held-out arm's outcomes in the attribution window
-- [window_start, window_end) and the treated − holdout increments with their 95 % intervals
-- (Newcombe for the conversion rate, Welch for revenue and profit per user; totals scaled to the
-- treated count). level: campaign (key 'all'), segment (key = segment name) or offer (key =
-- offer name, '(no coupon)' for ad-only users; compared with the whole holdout). provisional:
-- measured before the window closed. A rerun of the same measurement replaces its rows; each
-- later measurement adds rows (history), the latest is current (campaign_results_current).
-- The read-only BI role gets SELECT like on every table and view of the schema: migrate() ends
-- with ensure_bi_role (GRANT SELECT ON ALL TABLES IN SCHEMA journey + default privileges).

CREATE TABLE journey.campaign_results (
    campaign_id                  text             NOT NULL,
    run_id                       text             NOT NULL,
    measured_at                  timestamptz      NOT NULL,
    level                        text             NOT NULL CHECK (level IN ('campaign', 'segment', 'offer')),
    key                          text             NOT NULL,
    segment_id                   integer,
    offer_name                   text,
    window_start                 timestamptz      NOT NULL,
    window_end                   timestamptz      NOT NULL,
    provisional                  boolean          NOT NULL,
    margin_rate                  double precision NOT NULL,
    treated_users                bigint           NOT NULL,
    treated_converters           bigint           NOT NULL,
    treated_rate                 double precision,
    treated_orders               bigint           NOT NULL,
    treated_revenue              double precision NOT NULL,
    treated_revenue_per_user     double precision,
    treated_redemptions          bigint           NOT NULL,
    treated_coupon_cost          double precision NOT NULL,
    holdout_users                bigint           NOT NULL,
    holdout_converters           bigint           NOT NULL,
    holdout_rate                 double precision,
    holdout_orders               bigint           NOT NULL,
    holdout_revenue              double precision NOT NULL,
    holdout_revenue_per_user     double precision,
    holdout_redemptions          bigint           NOT NULL,
    holdout_coupon_cost          double precision NOT NULL,
    rate_lift                    double precision,  -- treated − holdout conversion rate
    rate_lift_low                double precision,
    rate_lift_high               double precision,
    incremental_conversions      double precision,
    incremental_conversions_low  double precision,
    incremental_conversions_high double precision,
    incremental_revenue          double precision,
    incremental_revenue_low      double precision,
    incremental_revenue_high     double precision,
    incremental_profit           double precision,  -- revenue × margin_rate − coupon cost
    incremental_profit_low       double precision,
    incremental_profit_high      double precision,
    published_at                 timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, run_id, measured_at, level, key)
);

-- The latest measurement of each run and breakdown row.
CREATE VIEW journey.campaign_results_current AS
SELECT DISTINCT ON (campaign_id, run_id, level, key) *
FROM journey.campaign_results
ORDER BY campaign_id, run_id, level, key, measured_at DESC;

-- For dashboards: the current measurement of each campaign's current run, with the campaign's
-- name and the lift as significant / not significant (interval excludes zero or not).
CREATE VIEW journey.bi_campaign_results AS
SELECT c.campaign_id, c.run_id, k.name AS campaign_name, c.level, c.key, c.segment_id, c.offer_name,
       c.measured_at, c.window_start, c.window_end, c.provisional,
       c.treated_users, c.treated_rate, c.treated_revenue_per_user, c.treated_redemptions, c.treated_coupon_cost,
       c.holdout_users, c.holdout_rate, c.holdout_revenue_per_user,
       c.rate_lift, c.rate_lift_low, c.rate_lift_high,
       c.incremental_conversions, c.incremental_conversions_low, c.incremental_conversions_high,
       c.incremental_revenue, c.incremental_revenue_low, c.incremental_revenue_high,
       c.incremental_profit, c.incremental_profit_low, c.incremental_profit_high,
       (c.rate_lift_low > 0 OR c.rate_lift_high < 0) AS conversion_lift_significant
FROM journey.campaign_results_current c
JOIN journey.campaign_runs_current r USING (campaign_id, run_id)
JOIN journey.campaigns k USING (campaign_id, run_id);
