-- Model registry (champion / challenger / retired) and the batch scores senders and campaigns read.
-- The read-only BI role gets SELECT on these like on every table of the schema: migrate() ends
-- with ensure_bi_role (GRANT SELECT ON ALL TABLES IN SCHEMA journey + default privileges).

CREATE TABLE journey.model_registry (
    name              text             NOT NULL,          -- behaviour | scene | propensity | responsiveness
    version           integer          NOT NULL CHECK (version >= 1),
    created_at        timestamptz      NOT NULL DEFAULT now(),
    run_id            text             NOT NULL,
    training_snapshot date             NOT NULL,
    eval_window       date,                               -- test cut-off the metrics were measured on
    primary_metric    text             NOT NULL,
    primary_value     double precision,
    metrics           jsonb            NOT NULL DEFAULT '{}'::jsonb,  -- model, champion and baselines, same rows
    artifact_path     text             NOT NULL,
    status            text             NOT NULL DEFAULT 'challenger'
                      CHECK (status IN ('champion', 'challenger', 'retired')),
    promoted_at       timestamptz,
    retired_at        timestamptz,
    decision          text,                               -- why the last promotion check did what it did
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX model_registry_one_champion ON journey.model_registry (name) WHERE status = 'champion';

-- Latest scores per user (replaced whole by each scoring run).
CREATE TABLE journey.user_scores (
    user_id              text             NOT NULL PRIMARY KEY,
    snapshot_date        date             NOT NULL,
    run_id               text             NOT NULL,
    intent_probability   double precision,
    predicted_scene      text,
    scene_confidence     double precision,
    propensity           double precision,
    responsiveness       double precision,
    explanation          jsonb,           -- {"propensity": [{feature, contribution} x3], "responsiveness": [...]}
    model_versions       jsonb,           -- {"behaviour": 3, "scene": 2, "propensity": 4, "responsiveness": 4}
    scored_at            timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX user_scores_snapshot ON journey.user_scores (snapshot_date);
