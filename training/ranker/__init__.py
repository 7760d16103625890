"""ASIN breakout ranker: LightGBM lambdarank over (marketplace, category, snapshot) groups."""

MODEL_NAME = "mercator_asin_breakout"
EXPERIMENT_NAME = "mercator-asin-breakout"
