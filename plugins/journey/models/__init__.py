"""Models: training sets (Spark), Keras behaviour and scene classifiers, XGBoost propensity, registry, scoring.

    config = ModelConfig()                                   # hparams.py: every hyper-parameter and default
    trained = train_step(settings, snapshot, config)         # pipeline.py: train → evaluate → promote
    registry.promote(conn, name, version, margin)            # registry.py: champion / challenger / rollback
    fit_uplift(features, treated, outcome).predict_effect(x) # uplift.py: T-/X-learner; uplift_metrics.py: Qini

Names load on first use: nothing here imports TensorFlow, XGBoost or Spark when the package is
imported (DAG files import hparams). See docs/models.md.
"""

from journey import lazy_face

FACE = {
    "ModelConfig": "hparams", "DataParams": "hparams", "TrainParams": "hparams", "XGBParams": "hparams",
    "PromotionParams": "hparams", "train_step": "pipeline", "evaluate_step": "pipeline", "promote_step": "pipeline",
    "MODEL_NAMES": "registry", "RegistryError": "registry", "promotion_decision": "registry",
    "UpliftParams": "uplift", "fit_uplift": "uplift", "fit_response": "uplift", "uplift_promotion": "uplift_metrics",
}
__all__ = sorted(FACE)
__getattr__ = lazy_face(__name__, FACE)
