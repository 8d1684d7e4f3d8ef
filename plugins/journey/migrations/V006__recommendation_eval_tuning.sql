-- Recommendation evaluation on the standard protocol (issue #20): a per-user temporal split (each
-- user's latest share of events is the test set) replaces the single split date, plain ALS is
-- scored beside the hybrid and popularity, and each row records how long the lists were and
-- what the per-run tuning chose (source weights, ALS settings, recency half-life) with the
-- validation NDCG@K it measured.

ALTER TABLE journey.recommendation_eval
    ALTER COLUMN split_date DROP NOT NULL,  -- NULL for the per-user split
    ADD COLUMN holdout_fraction double precision,   -- each user's latest share of events held out
    ADD COLUMN mean_list_length double precision,   -- recommendations per test user (K when full)
    ADD COLUMN short_lists      bigint,             -- test users with fewer than K recommendations
    ADD COLUMN validation_ndcg  double precision,   -- NDCG@K of the chosen blend on the validation split
    ADD COLUMN settings         jsonb NOT NULL DEFAULT '{}'::jsonb;  -- weights, ALS settings, unused sources

COMMENT ON COLUMN journey.recommendation_eval.model IS 'hybrid | als (the ALS source alone) | popularity';
