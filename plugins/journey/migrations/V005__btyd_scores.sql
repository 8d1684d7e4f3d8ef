-- Buy-till-you-die scores beside the model scores (journey.models.btyd_features): fitted per
-- scoring run on every customer with a purchase; null for users who never bought.
ALTER TABLE journey.user_scores
    ADD COLUMN p_alive            double precision,  -- BG/NBD P(customer still active) at the snapshot
    ADD COLUMN expected_purchases double precision,  -- BG/NBD expected purchases in the next horizon_days
    ADD COLUMN predicted_value    double precision,  -- expected purchases x Gamma-Gamma expected spend
    ADD COLUMN horizon_days       integer;           -- the horizon of expected_purchases and predicted_value
