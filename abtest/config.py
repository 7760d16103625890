"""Small frozen configuration objects for experiments: variants, traffic shares, holdout, layers.

They validate themselves on construction so a typo in a weight or share fails when the experiment is
defined, not days later in a skewed analysis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType

from abtest.hashing import N_BUCKETS, check_salt


def _check_share(share: float, what: str) -> float:
    if not 0.0 <= float(share) <= 1.0:
        raise ValueError(f"{what} must be between 0 and 1, got {share!r}")
    return float(share)


def _frozen_mapping(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class Variant:
    """One arm of an experiment; ``weight`` is relative (weights need not sum to 1)."""

    name: str
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"variant name must be a non-empty string, got {self.name!r}")
        if not float(self.weight) > 0:
            raise ValueError(f"variant {self.name!r}: weight must be > 0, got {self.weight!r}")


@dataclass(frozen=True)
class Holdout:
    """A global holdout: units in it are never enrolled in any experiment that honours it.

    Its salt is shared by all experiments (unlike an experiment salt), which is what makes the
    holdout the same set of units everywhere.
    """

    share: float
    salt: str = "mercator-global-holdout"
    name: str = "global_holdout"

    def __post_init__(self) -> None:
        _check_share(self.share, f"holdout {self.name!r} share")
        check_salt(self.salt)

    @property
    def threshold(self) -> int:
        """Units whose holdout bucket is below this are held out."""
        return round(self.share * N_BUCKETS)


@dataclass(frozen=True)
class Layer:
    """Mutually exclusive experiments: each owns a bucket range ``[start, end)`` of the layer's hash.

    A unit falls into exactly one range (or none), so two experiments in the same layer never share a
    unit. Experiments in different layers use different salts and overlap independently.
    """

    name: str
    salt: str
    slots: Mapping[str, tuple[int, int]] = field(hash=False)

    def __post_init__(self) -> None:
        check_salt(self.salt)
        object.__setattr__(self, "slots", _frozen_mapping({k: tuple(v) for k, v in self.slots.items()}))
        ranges = sorted((start, end, exp) for exp, (start, end) in self.slots.items())
        for start, end, exp in ranges:
            if not 0 <= start < end <= N_BUCKETS:
                raise ValueError(
                    f"layer {self.name!r}: experiment {exp!r} range [{start}, {end}) "
                    f"must lie in [0, {N_BUCKETS})"
                )
        for (_, end_a, exp_a), (start_b, _, exp_b) in pairwise(ranges):
            if start_b < end_a:
                raise ValueError(f"layer {self.name!r}: experiments {exp_a!r} and {exp_b!r} overlap")

    @classmethod
    def evenly(cls, name: str, salt: str, experiments: Iterable[str]) -> Layer:
        """Split the whole layer into equal consecutive ranges, one per experiment."""
        names = list(experiments)
        if not names:
            raise ValueError(f"layer {name!r} needs at least one experiment")
        edges = [round(i * N_BUCKETS / len(names)) for i in range(len(names) + 1)]
        return cls(name, salt, {exp: (edges[i], edges[i + 1]) for i, exp in enumerate(names)})

    def experiment_for_bucket(self, layer_bucket: int) -> str | None:
        """Which experiment of this layer owns the bucket (None: unallocated space)."""
        for exp, (start, end) in self.slots.items():
            if start <= layer_bucket < end:
                return exp
        return None


@dataclass(frozen=True)
class Experiment:
    """What the splitter needs to know about one experiment.

    ``traffic`` is the share of eligible units enrolled; ``stratum_traffic`` overrides it per stratum
    (for example per product category). The first variant is the control unless ``control`` says
    otherwise.
    """

    name: str
    salt: str
    variants: tuple[Variant, ...]
    traffic: float = 1.0
    stratum_traffic: Mapping[str, float] = field(default_factory=dict, hash=False)
    control: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"experiment name must be a non-empty string, got {self.name!r}")
        check_salt(self.salt)
        variants = tuple(v if isinstance(v, Variant) else Variant(*v) for v in self.variants)
        object.__setattr__(self, "variants", variants)
        if len(variants) < 2:
            raise ValueError(f"experiment {self.name!r} needs at least two variants")
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise ValueError(f"experiment {self.name!r}: duplicate variant names {names}")
        _check_share(self.traffic, f"experiment {self.name!r} traffic")
        for stratum, share in self.stratum_traffic.items():
            _check_share(share, f"experiment {self.name!r} traffic for stratum {stratum!r}")
        object.__setattr__(self, "stratum_traffic", _frozen_mapping(self.stratum_traffic))
        if self.control is None:
            object.__setattr__(self, "control", names[0])
        elif self.control not in names:
            raise ValueError(f"experiment {self.name!r}: control {self.control!r} is not one of {names}")
        edges = self.variant_edges
        for variant, lo, hi in zip(variants, edges[:-1], edges[1:], strict=True):
            if hi <= lo:
                raise ValueError(
                    f"experiment {self.name!r}: variant {variant.name!r} weight is below "
                    f"one bucket (1/{N_BUCKETS})"
                )

    @property
    def shares(self) -> dict[str, float]:
        """Each variant's intended share of enrolled units (weights normalised to 1)."""
        total = sum(v.weight for v in self.variants)
        return {v.name: v.weight / total for v in self.variants}

    @property
    def variant_edges(self) -> tuple[int, ...]:
        """Bucket cut points: variant i owns buckets ``[edges[i], edges[i+1])``."""
        total = sum(v.weight for v in self.variants)
        cumulative, edges = 0.0, [0]
        for v in self.variants:
            cumulative += v.weight
            edges.append(round(cumulative / total * N_BUCKETS))
        return tuple(edges)

    def traffic_for(self, stratum: str | None) -> float:
        """The enrolment share for a stratum (the default ``traffic`` when it has no override)."""
        if stratum is not None and stratum in self.stratum_traffic:
            return self.stratum_traffic[stratum]
        return self.traffic
