-- Campaign results gain the exposure-based estimate beside the assignment-based one
-- (campaigns/exposure_lift.py; issue #22): from the run's rows of journey.exposures in the
-- attribution window (an exposure naming the run, or naming no run and inside the run's window),
-- per result row the treated users with an exposure, their share of the treated users, the
-- held-out users with an exposure (should be 0: more is a leaked holdout) and Bloom's estimate of
-- the lift per exposed user: the conversion-rate and revenue-per-user lift and their 95 % interval
-- bounds divided by the exposure rate. All null when the run has no exposure reported.
-- Both views are recreated to show the new columns (added at their end); the BI role keeps its
-- SELECT (migrate() ends with ensure_bi_role).

ALTER TABLE journey.campaign_results
    ADD COLUMN exposed_users              bigint,
    ADD COLUMN exposure_rate              double precision,  -- exposed_users / treated_users
    ADD COLUMN holdout_exposed_users      bigint,
    ADD COLUMN exposed_rate_lift          double precision,  -- rate_lift / exposure_rate
    ADD COLUMN exposed_rate_lift_low      double precision,
    ADD COLUMN exposed_rate_lift_high     double precision,
    ADD COLUMN exposed_revenue_lift       double precision,  -- revenue lift per exposed user
    ADD COLUMN exposed_revenue_lift_low   double precision,
    ADD COLUMN exposed_revenue_lift_high  double precision;

CREATE OR REPLACE VIEW journey.campaign_results_current AS
SELECT DISTINCT ON (campaign_id, run_id, level, key) *
FROM journey.campaign_results
ORDER BY campaign_id, run_id, level, key, measured_at DESC;

CREATE OR REPLACE VIEW journey.bi_campaign_results AS
SELECT c.campaign_id, c.run_id, k.name AS campaign_name, c.level, c.key, c.segment_id, c.offer_name,
       c.measured_at, c.window_start, c.window_end, c.provisional,
       c.treated_users, c.treated_rate, c.treated_revenue_per_user, c.treated_redemptions, c.treated_coupon_cost,
       c.holdout_users, c.holdout_rate, c.holdout_revenue_per_user,
       c.rate_lift, c.rate_lift_low, c.rate_lift_high,
       c.incremental_conversions, c.incremental_conversions_low, c.incremental_conversions_high,
       c.incremental_revenue, c.incremental_revenue_low, c.incremental_revenue_high,
       c.incremental_profit, c.incremental_profit_low, c.incremental_profit_high,
       (c.rate_lift_low > 0 OR c.rate_lift_high < 0) AS conversion_lift_significant,
       c.exposed_users, c.exposure_rate, c.holdout_exposed_users,
       c.exposed_rate_lift, c.exposed_rate_lift_low, c.exposed_rate_lift_high,
       c.exposed_revenue_lift, c.exposed_revenue_lift_low, c.exposed_revenue_lift_high
FROM journey.campaign_results_current c
JOIN journey.campaign_runs_current r USING (campaign_id, run_id)
JOIN journey.campaigns k USING (campaign_id, run_id);
