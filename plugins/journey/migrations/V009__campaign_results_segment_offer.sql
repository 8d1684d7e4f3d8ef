-- Campaign results gain the level segment_offer (campaigns/results.py): per segment and offer,
-- the segment's users given the offer against the segment's held-out users; key
-- '<segment> / <offer>', segment_id and offer_name set. Exploration (campaigns/exploration.py)
-- reads these rows as each segment's evidence per offer.

ALTER TABLE journey.campaign_results DROP CONSTRAINT campaign_results_level_check;
ALTER TABLE journey.campaign_results ADD CONSTRAINT campaign_results_level_check
    CHECK (level IN ('campaign', 'segment', 'offer', 'segment_offer'));
