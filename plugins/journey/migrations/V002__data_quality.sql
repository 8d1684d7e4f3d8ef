-- Data-quality results of every gate run, for BI and for people investigating a failed run.
CREATE TABLE journey.dq_results (
    run_id           text        NOT NULL,
    dataset          text        NOT NULL,
    suite            text        NOT NULL,
    expectation      text        NOT NULL,
    column_name      text,
    severity         text        NOT NULL CHECK (severity IN ('error', 'warn')),
    success          boolean     NOT NULL,
    observed_value   text,
    unexpected_count bigint,
    element_count    bigint,
    checked_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dq_results_run ON journey.dq_results (run_id, dataset);
