"""The product catalogue of the synthetic store and a vectorised product sampler.

Six top-level categories, three sub-categories each, twenty products per
sub-category (360 products). Every top-level category has two brands in each
of three price tiers (budget, mid, premium). List prices are lognormal around
the sub-category's typical price, scaled by the tier, and end in ``.99``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

__all__ = ["TOP_CATEGORIES", "TIERS", "Catalog", "build_catalog"]

TIERS = ("budget", "mid", "premium")
_TIER_PRICE = np.array([0.6, 1.0, 2.2])
_TIER_SPLIT = (7, 8, 5)  # products per sub-category in each tier (sums to 20)
_PRICE_SIGMA = 0.3

# top category -> (brands by tier, {sub-category: (typical price, nouns)})
_TREE: dict[str, tuple[tuple[tuple[str, str], ...], dict[str, tuple[float, tuple[str, ...]]]]] = {
    "Home": (
        (("Casa Basics", "HomeLine"), ("Nestwell", "Oak & Ivy"), ("Maison Lumière", "Nordvik")),
        {
            "Decor": (34.0, ("Vase", "Candle", "Mirror", "Cushion", "Picture Frame", "Table Lamp")),
            "Kitchen": (28.0, ("Knife Set", "Frying Pan", "Kettle", "Mug Set", "Chopping Board")),
            "Bedding": (55.0, ("Duvet", "Pillow", "Sheet Set", "Throw", "Blanket")),
        },
    ),
    "Outdoor": (
        (("TrailMate", "CampEasy"), ("Ridgeway", "Northpeak"), ("Summit Alpine", "Fjellgear")),
        {
            "Camping": (85.0, ("Tent", "Sleeping Bag", "Camp Stove", "Lantern", "Camping Chair")),
            "Hiking": (70.0, ("Backpack", "Hiking Boots", "Trekking Poles", "Rain Jacket", "Water Bottle")),
            "Cycling": (60.0, ("Helmet", "Bike Light", "Cycling Jersey", "Floor Pump", "Bike Lock")),
        },
    ),
    "Fashion": (
        (("Basix", "UrbanThread"), ("Marlow", "Linen & Co"), ("Aurelia", "Vittore")),
        {
            "Shoes": (75.0, ("Sneakers", "Boots", "Loafers", "Sandals")),
            "Womenswear": (45.0, ("Dress", "Blouse", "Knit Sweater", "Wool Coat")),
            "Menswear": (45.0, ("Oxford Shirt", "Chinos", "Field Jacket", "Hoodie")),
        },
    ),
    "Beauty": (
        (("Glowday", "PureBasics"), ("Bloom Lab", "Velvet Rose"), ("Atelier Éclat", "Sérénité")),
        {
            "Skincare": (22.0, ("Moisturiser", "Serum", "Cleanser", "Face Mask")),
            "Makeup": (18.0, ("Lipstick", "Mascara", "Foundation", "Eyeshadow Palette")),
            "Fragrance": (55.0, ("Eau de Parfum", "Eau de Toilette", "Body Mist")),
        },
    ),
    "Electronics": (
        (("Voltix", "Zapp"), ("Sonora", "Brightwave"), ("Aurion", "Klangwerk")),
        {
            "Audio": (80.0, ("Headphones", "Earbuds", "Bluetooth Speaker", "Soundbar")),
            "Phone Accessories": (20.0, ("Phone Case", "Charger", "Power Bank", "USB-C Cable")),
            "Smart Home": (50.0, ("Smart Plug", "Smart Bulb", "Security Camera", "Thermostat")),
        },
    ),
    "Toys & Games": (
        (("PlayPals", "FunFactory"), ("BrickWorks", "Puzzlewood"), ("Heirloom Toys", "Noble Games")),
        {
            "Board Games": (30.0, ("Board Game", "Jigsaw Puzzle", "Card Game")),
            "Building Sets": (40.0, ("Building Set", "Model Kit")),
            "Plush": (18.0, ("Plush Bear", "Plush Fox", "Plush Owl")),
        },
    ),
}
TOP_CATEGORIES: tuple[str, ...] = tuple(_TREE)
_ADJECTIVES = ("Classic", "Everyday", "Pro", "Lite", "Essential", "Deluxe", "Compact", "Signature", "Eco", "Nova")


@dataclass(frozen=True)
class Catalog:
    """The products table plus what the samplers need.

    ``top`` and ``tier`` are per-product indices into :data:`TOP_CATEGORIES`
    and :data:`TIERS`; ``cell_order`` lists product indices grouped by
    (top, tier) cell, with ``cell_start``/``cell_size`` shaped (tops, tiers).
    ``properties`` holds each product's event JSON (``{"category", "price"}``).
    """

    table: pa.Table
    top: np.ndarray
    tier: np.ndarray
    price: np.ndarray
    cell_order: np.ndarray
    cell_start: np.ndarray
    cell_size: np.ndarray
    properties: list[str]

    @property
    def ids(self) -> pa.Array:
        return self.table.column("product_id").combine_chunks()

    def sample(self, rng: np.random.Generator, n: int, top_p: np.ndarray, tier_p: np.ndarray) -> np.ndarray:
        """Draw ``n`` product indices: category and tier by the given weights, then a
        popularity-skewed product within that cell (the first products sell most).
        """
        top = rng.choice(len(TOP_CATEGORIES), size=n, p=top_p / top_p.sum())
        tier = rng.choice(len(TIERS), size=n, p=tier_p / tier_p.sum())
        u = rng.random(n) ** 2
        offset = (u * self.cell_size[top, tier]).astype(np.int64)
        picked: np.ndarray = self.cell_order[self.cell_start[top, tier] + offset]
        return picked


def build_catalog(rng: np.random.Generator) -> Catalog:
    """Build the 360-product catalogue from ``rng`` (deterministic for a given state)."""
    ids: list[str] = []
    names: list[str] = []
    paths: list[str] = []
    brands: list[str] = []
    tops: list[int] = []
    tiers: list[int] = []
    prices: list[float] = []
    for t, (top, (tier_brands, subs)) in enumerate(_TREE.items()):
        for sub, (typical, nouns) in subs.items():
            tier_of = np.repeat(np.arange(len(TIERS)), _TIER_SPLIT)
            raw = typical * _TIER_PRICE[tier_of] * rng.lognormal(0.0, _PRICE_SIGMA, tier_of.size)
            adjectives = rng.integers(0, len(_ADJECTIVES), tier_of.size)
            which_brand = rng.integers(0, 2, tier_of.size)
            for k, tier in enumerate(tier_of):
                brand = tier_brands[tier][which_brand[k]]
                noun = nouns[k % len(nouns)]
                ids.append(f"p{len(ids) + 1:04d}")
                names.append(f"{brand} {_ADJECTIVES[adjectives[k]]} {noun}")
                paths.append(f"{top} > {sub}")
                brands.append(brand)
                tops.append(t)
                tiers.append(int(tier))
                prices.append(max(0.99, round(float(raw[k])) - 0.01))
    table = pa.table(
        {
            "product_id": pa.array(ids, pa.string()),
            "name": pa.array(names, pa.string()),
            "category": pa.array(paths, pa.string()),
            "brand": pa.array(brands, pa.string()),
            "price": pa.array(prices, pa.float64()),
        }
    )
    top_a, tier_a = np.array(tops), np.array(tiers)
    cell = top_a * len(TIERS) + tier_a
    cell_order = np.argsort(cell, kind="stable")
    size = np.bincount(cell, minlength=len(TOP_CATEGORIES) * len(TIERS))
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    props = [json.dumps({"category": p, "price": v}, ensure_ascii=False) for p, v in zip(paths, prices)]
    return Catalog(
        table=table,
        top=top_a,
        tier=tier_a,
        price=np.array(prices),
        cell_order=cell_order,
        cell_start=start.reshape(len(TOP_CATEGORIES), len(TIERS)),
        cell_size=size.reshape(len(TOP_CATEGORIES), len(TIERS)),
        properties=props,
    )
