"""Models: training sets (Spark), Keras behaviour and scene classifiers, XGBoost propensity, registry, scoring.

Nothing here imports TensorFlow, XGBoost or Spark at module top: DAG files import this package.
See docs/models.md.
"""
