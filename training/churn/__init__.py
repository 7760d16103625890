"""Customer churn model: point-in-time features, training with promotion, daily scoring."""

MODEL_NAME = "mercator_churn"
EXPERIMENT_NAME = "mercator-churn"
