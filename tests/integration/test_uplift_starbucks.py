"""The learned uplift on a real randomised promotion (Starbucks, ../shared/data): trained on the
training file, it ranks the test file better than the response model and than random (Qini)."""

from __future__ import annotations

from journey.models.uplift import UpliftParams, fit_response, fit_uplift
from journey.models.uplift_metrics import qini_coefficient, uplift_at_k
from journey.perf.uplift_starbucks import TEST_FILE, TRAINING_FILE, read_promotion
from tests.samples import shared_sample


def test_x_learner_beats_the_response_model_and_random_on_the_starbucks_test_file():
    """Figures with UpliftParams() (docs/models.md, Uplift): X-learner 0.2296, response model 0.2288."""
    train = read_promotion(shared_sample(TRAINING_FILE))
    features, treated, outcome = read_promotion(shared_sample(TEST_FILE))
    assert (len(train[1]), len(treated)) == (84_534, 41_650)
    learned = fit_uplift(*train, kind="x", params=UpliftParams()).predict_effect(features)
    responding = fit_response(*train, params=UpliftParams()).predict_response(features)
    learner_qini = qini_coefficient(outcome, treated, learned)
    response_qini = qini_coefficient(outcome, treated, responding)
    assert learner_qini > response_qini, (learner_qini, response_qini)
    assert learner_qini > 0.1  # random scores 0 in expectation (seeded random order: 0.001)
    assert uplift_at_k(outcome, treated, learned, 0.1) > 0.015  # the whole test file's uplift is about 0.009
