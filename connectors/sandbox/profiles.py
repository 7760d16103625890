"""Scale profiles and marketplaces of the sandbox: the knobs that decide how big the synthetic world is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Marketplace:
    """One Amazon marketplace as the Orders API names it."""

    marketplace_id: str
    country: str
    currency: str
    sales_channel: str
    order_prefix: str
    customer_share: float
    price_factor: float  # local price per USD of list price


@dataclass(frozen=True)
class Profile:
    """How many ASINs, customers and orders per (non-peak) day the sandbox serves."""

    name: str
    marketplaces: tuple[Marketplace, ...]
    n_asins: int
    n_customers: int
    orders_per_day: float

    def marketplace(self, marketplace_id: str) -> Marketplace:
        for mp in self.marketplaces:
            if mp.marketplace_id == marketplace_id:
                return mp
        raise KeyError(marketplace_id)

    @property
    def marketplace_ids(self) -> tuple[str, ...]:
        return tuple(mp.marketplace_id for mp in self.marketplaces)


US = Marketplace("ATVPDKIKX0DER", "US", "USD", "Amazon.com", "113", 0.65, 1.0)
UK = Marketplace("A1F83G8C2ARO7P", "UK", "GBP", "Amazon.co.uk", "204", 0.35, 0.82)

PROFILES: dict[str, Profile] = {
    "small": Profile("small", (US, UK), n_asins=2_000, n_customers=20_000, orders_per_day=1_500.0),
    "medium": Profile("medium", (US, UK), n_asins=20_000, n_customers=200_000, orders_per_day=15_000.0),
    # Benchmarks only: a day is ~150k orders; no test generates it (population alone is 2M customers).
    "large": Profile("large", (US, UK), n_asins=200_000, n_customers=2_000_000, orders_per_day=150_000.0),
}


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown sandbox profile {name!r}; choose one of {sorted(PROFILES)}") from None
