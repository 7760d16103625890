"""Stable traffic splitting: which variant (if any) a unit gets in an experiment, and why.

Order of decisions for a unit, each from its own salted hash so they are independent:

1. global holdout (holdout salt): held-out units are never enrolled;
2. layer (layer salt): the unit's layer bucket must fall in this experiment's range;
3. traffic share (``<salt>/traffic``), per stratum if configured: ramping a share up only adds units;
4. variant (``<salt>``): the bucket ``sha256(f"{salt}:{unit_id}") mod 10,000`` picks the variant by
   weight. It does not depend on the stratum or the traffic share, so a unit keeps its variant when
   the experiment is ramped up or the unit changes category.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from abtest.config import Experiment, Holdout, Layer
from abtest.hashing import N_BUCKETS, bucket, buckets, unit_key

log = logging.getLogger(__name__)


class Reason(StrEnum):
    """Why a unit did or did not get a variant (stored in the exposure log)."""

    ASSIGNED = "assigned"
    HOLDOUT = "global_holdout"
    LAYER = "other_experiment_in_layer"
    TRAFFIC = "outside_traffic_share"


@dataclass(frozen=True)
class Assignment:
    """The outcome for one unit; ``variant`` is None unless ``reason`` is ``assigned``."""

    experiment: str
    unit_id: str
    variant: str | None
    bucket: int
    reason: Reason
    stratum: str | None = None

    @property
    def in_experiment(self) -> bool:
        return self.reason == Reason.ASSIGNED


class TrafficSplitter:
    """Deterministic assignment for one experiment; the same unit always gets the same answer.

    >>> from abtest.config import Experiment, Variant
    >>> exp = Experiment("free_shipping_banner", "fsb-2024-06", (Variant("control"), Variant("banner")))
    >>> TrafficSplitter(exp).assign("customer-42").variant in {"control", "banner"}
    True
    """

    def __init__(self, experiment: Experiment, *, holdout: Holdout | None = None, layer: Layer | None = None):
        if layer is not None and experiment.name not in layer.slots:
            raise ValueError(f"experiment {experiment.name!r} has no range in layer {layer.name!r}")
        self.experiment = experiment
        self.holdout = holdout
        self.layer = layer
        self._edges = np.asarray(experiment.variant_edges)
        self._names = np.asarray([v.name for v in experiment.variants], dtype=object)
        self._traffic_salt = f"{experiment.salt}/traffic"

    def _threshold(self, stratum: str | None) -> int:
        return round(self.experiment.traffic_for(stratum) * N_BUCKETS)

    def _variant_of(self, variant_bucket: int) -> str:
        return str(self._names[np.searchsorted(self._edges, variant_bucket, side="right") - 1])

    def assign(self, unit_id: object, stratum: str | None = None) -> Assignment:
        """The unit's assignment; ``stratum`` (e.g. product category) selects the traffic share."""
        key = unit_key(unit_id)
        exp = self.experiment
        variant_bucket = bucket(key, exp.salt)

        def outcome(reason: Reason, variant: str | None = None) -> Assignment:
            return Assignment(exp.name, key, variant, variant_bucket, reason, stratum)

        if self.holdout is not None and bucket(key, self.holdout.salt) < self.holdout.threshold:
            return outcome(Reason.HOLDOUT)
        if self.layer is not None:
            start, end = self.layer.slots[exp.name]
            if not start <= bucket(key, self.layer.salt) < end:
                return outcome(Reason.LAYER)
        if bucket(key, self._traffic_salt) >= self._threshold(stratum):
            return outcome(Reason.TRAFFIC)
        return outcome(Reason.ASSIGNED, self._variant_of(variant_bucket))

    def assign_many(
        self, unit_ids: Iterable[object], strata: Sequence[str | None] | None = None
    ) -> pd.DataFrame:
        """Vectorised :meth:`assign`: one row per unit with the fields of :class:`Assignment`."""
        keys = [unit_key(u) for u in unit_ids]
        n = len(keys)
        if strata is None:
            strata_arr = np.full(n, None, dtype=object)
        else:
            strata_arr = np.asarray(list(strata), dtype=object)
            if len(strata_arr) != n:
                raise ValueError(
                    f"experiment {self.experiment.name!r}: {n} unit ids but {len(strata_arr)} strata"
                )
        exp = self.experiment
        variant_buckets = buckets(keys, exp.salt)
        reason = np.full(n, Reason.ASSIGNED.value, dtype=object)
        open_ = np.ones(n, dtype=bool)
        if self.holdout is not None:
            held = buckets(keys, self.holdout.salt) < self.holdout.threshold
            reason[held] = Reason.HOLDOUT.value
            open_ &= ~held
        if self.layer is not None:
            start, end = self.layer.slots[exp.name]
            lb = buckets(keys, self.layer.salt)
            elsewhere = open_ & ~((lb >= start) & (lb < end))
            reason[elsewhere] = Reason.LAYER.value
            open_ &= ~elsewhere
        thresholds = np.fromiter((self._threshold(s) for s in strata_arr), dtype=np.int64, count=n)
        outside = open_ & (buckets(keys, self._traffic_salt) >= thresholds)
        reason[outside] = Reason.TRAFFIC.value
        open_ &= ~outside
        variant = np.full(n, None, dtype=object)
        idx = np.searchsorted(self._edges, variant_buckets[open_], side="right") - 1
        variant[open_] = self._names[idx]
        log.info(
            "experiment %s: assigned %d of %d units (%s)",
            exp.name,
            int(open_.sum()),
            n,
            ", ".join(f"{r}={int((reason == r).sum())}" for r in Reason),
        )
        return pd.DataFrame(
            {
                "experiment": exp.name,
                "unit_id": keys,
                "stratum": strata_arr,
                "variant": variant,
                "bucket": variant_buckets,
                "reason": reason,
            }
        )
