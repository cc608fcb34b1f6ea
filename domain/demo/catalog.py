"""The demo shop's catalogue: a baby and maternity retailer with general household lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.demo.sampling import BoolArray, IntArray


@dataclass(frozen=True)
class CategorySpec:
    """A product category: its brands, its items with base prices, how many units a line holds."""

    code: str
    sku_prefix: str
    brands: tuple[str, ...]
    items: tuple[tuple[str, int], ...]
    extra_units: float


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "maternity",
        "MAT",
        ("Bloom", "Nine Moons"),
        (
            ("Maternity jeans", 4999),
            ("Nursing bra", 2499),
            ("Prenatal vitamins 90 caps", 1899),
            ("Belly support band", 2999),
            ("Maternity dress", 5499),
            ("Stretch-mark oil 100ml", 1599),
            ("Pregnancy pillow", 4499),
        ),
        0.1,
    ),
    CategorySpec(
        "infant_formula",
        "INF",
        ("Little Oak", "Nordic Dairy", "Mamamilk"),
        (
            ("Infant formula stage 1 800g", 2899),
            ("Follow-on formula stage 2 800g", 2799),
            ("Organic infant formula stage 1 400g", 1999),
            ("Comfort formula 800g", 3199),
        ),
        1.2,
    ),
    CategorySpec(
        "toddler_formula",
        "TOD",
        ("Little Oak", "Nordic Dairy", "Mamamilk"),
        (
            ("Toddler milk stage 3 800g", 2499),
            ("Growing-up milk stage 4 800g", 2399),
            ("Ready-to-drink growing-up milk 1l", 499),
        ),
        1.0,
    ),
    CategorySpec(
        "feeding",
        "FED",
        ("Tiny Spoon", "Sip&Grow"),
        (
            ("Anti-colic bottle 260ml 2-pack", 1499),
            ("Steam steriliser", 5999),
            ("Bottle warmer", 3999),
            ("Teats 2-pack", 699),
            ("Bibs 5-pack", 1199),
        ),
        0.2,
    ),
    CategorySpec(
        "diapers",
        "DIA",
        ("SoftStep", "DryNest"),
        (
            ("Newborn diapers 44 pcs", 1299),
            ("Diapers size 2 68 pcs", 1999),
            ("Diapers size 3 62 pcs", 1999),
            ("Diapers size 4 56 pcs", 2099),
            ("Pants size 5 40 pcs", 1899),
            ("Sensitive wipes 4x64", 899),
        ),
        1.0,
    ),
    CategorySpec(
        "baby_skincare",
        "BSK",
        ("Pebble", "Calm Cub"),
        (
            ("Baby lotion 200ml", 899),
            ("Nappy cream 100ml", 699),
            ("Baby wash 400ml", 799),
            ("Baby sun cream SPF50 100ml", 1299),
        ),
        0.3,
    ),
    CategorySpec(
        "skincare",
        "SKN",
        ("Aurea", "Solace"),
        (
            ("Day cream 50ml", 2499),
            ("Hydrating serum 30ml", 3499),
            ("Gentle cleanser 150ml", 1499),
            ("Eye cream 15ml", 2799),
            ("Night cream 50ml", 2699),
        ),
        0.1,
    ),
    CategorySpec(
        "toys",
        "TOY",
        ("Woodland", "Brightblocks"),
        (
            ("Wooden rattle", 999),
            ("Stacking cups", 1299),
            ("Activity gym", 5999),
            ("Plush bunny", 1599),
            ("Shape sorter", 1899),
            ("Bath toys set", 1199),
            ("Push walker", 4499),
        ),
        0.1,
    ),
    CategorySpec(
        "baby_clothing",
        "CLO",
        ("Cotton Cub", "Little Loom"),
        (
            ("Bodysuits 5-pack", 2199),
            ("Sleepsuit", 1499),
            ("Hat and mittens", 999),
            ("Sleeping bag", 3499),
            ("Knitted cardigan", 1999),
            ("Socks 6-pack", 799),
        ),
        0.3,
    ),
    CategorySpec(
        "gear",
        "GEA",
        ("Roamer", "Safe Harbor"),
        (
            ("Stroller", 34999),
            ("Infant car seat", 24999),
            ("Baby carrier", 8999),
            ("Travel cot", 11999),
            ("High chair", 12999),
        ),
        0.0,
    ),
    CategorySpec(
        "household",
        "HOU",
        ("Clearhome", "Greenwash"),
        (
            ("Laundry liquid 2l", 1299),
            ("Dishwasher tablets 60", 1499),
            ("Surface spray 750ml", 499),
            ("Paper towels 6 rolls", 799),
            ("Bin bags 50", 399),
            ("Fabric softener 1.5l", 699),
        ),
        0.6,
    ),
    CategorySpec(
        "snacks",
        "SNK",
        ("Munchkin Farm", "Oat & Apple"),
        (
            ("Fruit puree 4-pack", 549),
            ("Rice cakes", 299),
            ("Oat bars 6-pack", 449),
            ("Veggie puffs", 249),
            ("Granola 500g", 599),
        ),
        1.0,
    ),
    CategorySpec(
        "health",
        "HEA",
        ("VitaNest", "Pure Care"),
        (
            ("Vitamin D drops", 1099),
            ("Digital thermometer", 2499),
            ("Nasal aspirator", 1299),
            ("Multivitamin 60 tabs", 1399),
            ("First-aid kit", 1999),
        ),
        0.2,
    ),
)

CATEGORY_CODES: tuple[str, ...] = tuple(spec.code for spec in CATEGORIES)
CATEGORY_INDEX: dict[str, int] = {code: i for i, code in enumerate(CATEGORY_CODES)}

# Every 11th product (counting from the 8th) has been discontinued.
_INACTIVE_EVERY, _INACTIVE_FROM = 11, 7


@dataclass(frozen=True)
class Catalogue:
    """The products as parallel arrays; product ids are `first_id + index`."""

    first_id: int
    sku: tuple[str, ...]
    name: tuple[str, ...]
    category: IntArray
    price_minor: IntArray
    active: BoolArray
    extra_units: np.ndarray
    by_category: list[IntArray]
    active_by_category: list[IntArray]

    @property
    def ids(self) -> IntArray:
        """Database ids of the products, in catalogue order."""
        return self.first_id + np.arange(len(self.sku), dtype=np.int64)


def _price(base_minor: int, brand_no: int) -> int:
    # Later brands are a little dearer; prices end in 99 like shelf prices do.
    scaled = base_minor * (1 + 0.08 * brand_no)
    return max(round(scaled / 100) * 100 - 1, 99)


def build_catalogue(first_id: int = 1) -> Catalogue:
    """The demo catalogue, identical on every call."""
    skus: list[str] = []
    names: list[str] = []
    categories: list[int] = []
    prices: list[int] = []
    for cat_no, spec in enumerate(CATEGORIES):
        number = 0
        for brand_no, brand in enumerate(spec.brands):
            for item, base in spec.items:
                number += 1
                skus.append(f"{spec.sku_prefix}-{number:03d}")
                names.append(f"{brand} {item}")
                categories.append(cat_no)
                prices.append(_price(base, brand_no))
    count = len(skus)
    category = np.array(categories, dtype=np.int64)
    active = (np.arange(count) % _INACTIVE_EVERY) != _INACTIVE_FROM
    indices = np.arange(count, dtype=np.int64)
    return Catalogue(
        first_id=first_id,
        sku=tuple(skus),
        name=tuple(names),
        category=category,
        price_minor=np.array(prices, dtype=np.int64),
        active=active,
        extra_units=np.array([spec.extra_units for spec in CATEGORIES]),
        by_category=[indices[category == c] for c in range(len(CATEGORIES))],
        active_by_category=[indices[(category == c) & active] for c in range(len(CATEGORIES))],
    )
