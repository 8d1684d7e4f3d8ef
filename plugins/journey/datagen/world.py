"""The simulated shop: catalogue tree, brands, countries, personas, scene shapes and defects.

Plain constants only: every other module of the generator reads its parameters from here,
so tuning the data means editing this file.
"""

from __future__ import annotations

from dataclasses import dataclass

from journey.schemas import SCENES

# top-level category → sub-category → median price (EUR); prices are lognormal around it
CATEGORY_TREE: dict[str, dict[str, float]] = {
    "electronics": {"smartphone": 450.0, "audio": 90.0, "laptop": 900.0, "tv": 600.0, "camera": 480.0},
    "apparel": {"shoes": 80.0, "dresses": 60.0, "jackets": 110.0, "tshirts": 20.0, "accessories": 35.0},
    "home": {"kitchen": 45.0, "furniture": 250.0, "decor": 30.0, "bedding": 55.0, "cleaning": 8.0},
    "beauty": {"skincare": 22.0, "makeup": 18.0, "fragrance": 65.0, "haircare": 12.0},
    "sports": {"fitness": 40.0, "cycling": 180.0, "outdoor": 90.0, "running": 70.0},
    "kids": {"toys": 25.0, "clothing": 20.0, "baby_care": 15.0, "school": 10.0},
    "grocery": {"tea_coffee": 9.0, "snacks": 4.0, "pantry": 5.0, "drinks": 3.0, "fresh": 6.0},
    "books": {"fiction": 14.0, "nonfiction": 18.0, "childrens": 10.0, "comics": 12.0},
}
TOP_CATEGORIES: tuple[str, ...] = tuple(CATEGORY_TREE)
SUB_CATEGORIES: tuple[str, ...] = tuple(f"{top}.{sub}" for top, subs in CATEGORY_TREE.items() for sub in subs)
PRICE_SPREAD = 0.45  # sigma of log price around a sub-category's median
# Sub-categories people run out of and buy again (what replenish sessions are about).
CONSUMABLES: tuple[str, ...] = (
    "grocery.tea_coffee", "grocery.snacks", "grocery.pantry", "grocery.drinks", "grocery.fresh",
    "beauty.skincare", "beauty.haircare", "kids.baby_care", "home.cleaning",
)

MARGIN_RANGE: dict[str, tuple[float, float]] = {
    "electronics": (0.05, 0.2), "apparel": (0.35, 0.6), "home": (0.2, 0.45), "beauty": (0.4, 0.6),
    "sports": (0.2, 0.4), "kids": (0.25, 0.45), "grocery": (0.08, 0.25), "books": (0.15, 0.35),
}
BRANDS: dict[str, tuple[str, ...]] = {
    "electronics": ("Voltix", "Samsong", "Aplex", "Sonara", "Lumina", "Acme"),
    "apparel": ("Northwind", "Veloura", "Urbanite", "Kaiko", "Mistral"),
    "home": ("Hearth", "Casana", "Nordhem", "Olivo", "Tidy"),
    "beauty": ("Lumiere", "Aura", "Velvet", "Botanica", "Glow"),
    "sports": ("Stride", "Peakline", "Rallye", "Trailon", "Flexo"),
    "kids": ("TinyTots", "Playwell", "Bubbles", "Sprout", "Kidzo"),
    "grocery": ("Greenleaf", "Morrow", "Harvest", "Brewly", "Crunch"),
    "books": ("Penbrook", "Inkwell", "Folio", "Paperkite", "Oakpress"),
}
QUALIFIERS: dict[str, tuple[str, ...]] = {
    "electronics": ("Wireless", "Smart", "Ultra", "Compact", "Digital"),
    "apparel": ("Classic", "Slim", "Organic", "Casual", "Urban"),
    "home": ("Modern", "Nordic", "Rustic", "Everyday", "Cosy"),
    "beauty": ("Hydrating", "Natural", "Radiant", "Gentle", "Matte"),
    "sports": ("Active", "Trail", "Pro", "Lightweight", "Endurance"),
    "kids": ("Happy", "Soft", "Bright", "Little", "Magic"),
    "grocery": ("Organic", "Fairtrade", "Crunchy", "Classic", "Fresh"),
    "books": ("Illustrated", "Collected", "Complete", "Pocket", "Annotated"),
}
NOUNS: dict[str, tuple[str, ...]] = {
    "smartphone": ("Phone", "Smartphone"), "audio": ("Earbuds", "Headphones", "Speaker", "Soundbar"),
    "laptop": ("Laptop", "Notebook", "Ultrabook"), "tv": ("OLED TV", "LED TV", "Smart TV"),
    "camera": ("Camera", "Action Cam", "Mirrorless Camera"), "shoes": ("Sneakers", "Boots", "Loafers"),
    "dresses": ("Dress", "Maxi Dress", "Wrap Dress"), "jackets": ("Jacket", "Parka", "Blazer"),
    "tshirts": ("T-Shirt", "Polo", "Tank Top"), "accessories": ("Scarf", "Belt", "Cap", "Tote Bag"),
    "kitchen": ("Knife Set", "Blender", "Pan", "Kettle"), "furniture": ("Sofa", "Desk", "Armchair", "Shelf"),
    "decor": ("Vase", "Lamp", "Mirror", "Candle"), "bedding": ("Duvet", "Pillow", "Sheet Set"),
    "cleaning": ("Detergent", "Dish Soap", "Wipes"), "skincare": ("Face Cream", "Serum", "Cleanser"),
    "makeup": ("Lipstick", "Mascara", "Foundation"), "fragrance": ("Eau de Parfum", "Eau de Toilette"),
    "haircare": ("Shampoo", "Conditioner", "Hair Oil"), "fitness": ("Yoga Mat", "Dumbbells", "Resistance Band"),
    "cycling": ("Bike Helmet", "Bike Light", "Road Bike"), "outdoor": ("Tent", "Backpack", "Sleeping Bag"),
    "running": ("Running Shoes", "Running Vest", "Sports Watch"), "toys": ("Building Set", "Puzzle", "Plush Bear"),
    "clothing": ("Romper", "Kids Hoodie", "Pyjamas"), "baby_care": ("Diapers", "Baby Wipes", "Baby Lotion"),
    "school": ("School Bag", "Pencil Case", "Notebook Set"), "tea_coffee": ("Coffee Beans", "Green Tea", "Espresso Pods"),
    "snacks": ("Granola Bars", "Crisps", "Dark Chocolate"), "pantry": ("Olive Oil", "Pasta", "Basmati Rice"),
    "drinks": ("Sparkling Water", "Orange Juice", "Cola"), "fresh": ("Berries", "Cheese", "Yoghurt"),
    "fiction": ("Novel", "Thriller", "Fantasy Saga"), "nonfiction": ("Biography", "Cookbook", "History"),
    "childrens": ("Picture Book", "Bedtime Stories"), "comics": ("Graphic Novel", "Manga Volume"),
}
EDITIONS: tuple[str, ...] = ("", "", "Pro", "Max", "Lite", "Plus", "Mini", "2", "XL", "Essential")

COUNTRIES: dict[str, float] = {
    "DE": 0.25, "FR": 0.15, "GB": 0.14, "NL": 0.08, "ES": 0.08, "IT": 0.08, "PL": 0.06,
    "SE": 0.04, "BE": 0.04, "AT": 0.04, "US": 0.04,
}
CONSENT_RATES: dict[str, float] = {"consent_email": 0.70, "consent_push": 0.45, "consent_sms": 0.20}
SIGNUP_HISTORY_DAYS = 730  # users signed up up to two years before the window ...
SIGNUP_INSIDE_WINDOW = 0.08  # ... or, this share of them, inside it
SHOP_CHANNELS: tuple[str, ...] = ("web", "app", "email", "push", "social", "search")
WEEKDAY_TRAFFIC: tuple[float, ...] = (1.08, 1.0, 0.97, 0.97, 0.9, 0.93, 1.15)  # Monday .. Sunday
FUTURE_DAYS = 14  # simulated after the window for ground_truth/future_purchases.parquet


@dataclass(frozen=True)
class Persona:
    """Latent shopper type: what, how pricey, how often, how likely to buy, use coupons and leave."""

    name: str
    share: float
    taste: dict[str, float]  # top-level category weights (Dirichlet mean of a user's taste)
    price_level: tuple[float, float]  # Beta(a, b): where in a sub-category's price range the user shops
    visits_per_day: float
    buy: float  # multiplier on cart and purchase probabilities
    coupon: float  # mean probability that an order uses a coupon
    churn: float  # probability of leaving for good at a random day of the simulation
    scenes: dict[str, float]
    peak_hour: float  # UTC
    channels: dict[str, float]
    active_days: tuple[int, int] | None = None  # lapsed: active only this many first days (low, high)


PERSONAS: tuple[Persona, ...] = (
    Persona("deal_seeker", 0.20, {"grocery": 0.4, "home": 0.3, "beauty": 0.3}, (1.2, 5.0), 0.28, 1.0, 0.85, 0.05,
            {"promo_hunt": 0.65, "targeted": 0.2, "browse": 0.15}, 12.0,
            {"email": 0.3, "push": 0.2, "app": 0.3, "web": 0.2}),
    Persona("loyal_premium", 0.10, {"electronics": 0.65, "home": 0.25, "sports": 0.1}, (5.0, 1.3), 0.28, 1.4, 0.03,
            0.02, {"targeted": 0.5, "compare": 0.35, "replenish": 0.15}, 20.0, {"app": 0.6, "web": 0.4}),
    Persona("window_shopper", 0.20, {"apparel": 0.4, "electronics": 0.4, "home": 0.2}, (2.0, 2.0), 0.32, 0.06, 0.0,
            0.05, {"browse": 0.6, "compare": 0.4}, 21.0, {"social": 0.35, "web": 0.35, "app": 0.3}),
    Persona("fashionista", 0.15, {"apparel": 0.7, "beauty": 0.3}, (2.5, 2.0), 0.22, 0.8, 0.15, 0.05,
            {"targeted": 0.45, "browse": 0.3, "compare": 0.25}, 19.0, {"app": 0.5, "social": 0.3, "web": 0.2}),
    Persona("family_replenisher", 0.15, {"grocery": 0.55, "kids": 0.45}, (1.5, 3.0), 0.32, 1.3, 0.08, 0.03,
            {"replenish": 0.7, "targeted": 0.3}, 9.0, {"app": 0.6, "web": 0.3, "push": 0.1}),
    Persona("gifter", 0.10, {"home": 0.4, "apparel": 0.3, "beauty": 0.3}, (4.0, 1.5), 0.12, 1.2, 0.05, 0.05,
            {"gift": 0.85, "browse": 0.15}, 17.0, {"web": 0.6, "search": 0.4}),
    Persona("lapsed", 0.10, dict.fromkeys(TOP_CATEGORIES, 1.0), (2.0, 2.0), 1.0, 0.5, 0.1, 1.0,
            {"browse": 0.6, "targeted": 0.4}, 14.0, {"web": 0.5, "app": 0.3, "email": 0.2}, active_days=(2, 6)),
)
TASTE_CONCENTRATION = 25.0  # Dirichlet concentration of a user's taste around the persona's
TASTE_FLOOR = 0.4  # Dirichlet mass every category gets (users stray a little)
VISIT_SPREAD = 0.3  # sigma of a user's log visit rate around the persona's
BUY_SPREAD = 0.25  # sigma of a user's log buy multiplier
COUPON_CONCENTRATION = 12.0  # Beta concentration of a user's coupon rate around the persona's
PRICE_CONCENTRATION = 6.0  # Beta concentration of one view's price position around the user's level
STAPLES_PER_USER = 4  # consumables a user keeps buying again in replenish sessions
STAPLE_SHARE = 0.85  # share of replenish views that are one of the user's staples
# Gifts go to categories outside the user's taste, these more than others.
GIFT_CATEGORIES: dict[str, float] = {"books": 0.35, "kids": 0.3, "sports": 0.25, "electronics": 0.05, "beauty": 0.05}


@dataclass(frozen=True)
class SceneShape:
    """How a shopping scene shapes its session's events."""

    min_views: int
    extra_views: float  # Poisson mean of further views
    search: float  # probability of a search first
    cart: float  # probability of an add_to_cart (before the persona's buy multiplier)
    buy: float  # probability that a carted session buys (before the persona's buy multiplier)
    focus: float  # share of views in the session's focus sub-category
    price_shift: float  # added to the user's price level (gift: pricier, promo_hunt: cheaper)


SCENE_SHAPES: dict[str, SceneShape] = {
    "browse": SceneShape(3, 5.0, 0.2, 0.12, 0.35, 0.3, 0.0),
    "targeted": SceneShape(1, 2.0, 0.6, 0.8, 0.75, 0.95, 0.0),
    "compare": SceneShape(4, 4.0, 0.3, 0.4, 0.5, 1.0, 0.05),
    "promo_hunt": SceneShape(2, 3.0, 0.85, 0.7, 0.75, 0.85, -0.35),
    "replenish": SceneShape(1, 1.0, 0.5, 0.95, 0.9, 1.0, -0.1),
    "gift": SceneShape(3, 4.0, 0.3, 0.7, 0.75, 0.5, 0.3),
}
if tuple(SCENE_SHAPES) != SCENES:
    raise RuntimeError(f"SCENE_SHAPES must list schemas.SCENES in order: {SCENES}")

# Event kinds in the order they appear inside a session (a subset of schemas.EVENT_TYPES).
FUNNEL: tuple[str, ...] = ("search", "view", "add_to_cart", "remove_from_cart", "coupon_redeem", "purchase")
GAP_SECONDS: dict[str, float] = {  # mean pause before an event of this kind
    "search": 8.0, "view": 35.0, "add_to_cart": 15.0, "remove_from_cart": 25.0, "coupon_redeem": 40.0,
    "purchase": 60.0,
}
EXTRA_CART = (0.25, 0.08)  # chance of a second, then a third add_to_cart in a carting session
REMOVE_RATE = 0.3  # chance a carting session removes its first carted product
QUANTITIES = (1, 2, 3)
QUANTITY_WEIGHTS = {"default": (0.8, 0.15, 0.05), "replenish": (0.55, 0.3, 0.15)}

DEFECTS: tuple[str, ...] = (
    "duplicate", "null_user_id", "null_event_time", "unparsable_timestamp", "future_timestamp",
    "negative_price", "unknown_event_type",
)
BAD_TIMESTAMPS: tuple[str, ...] = ("2026-13-45 25:61", "not a date", "31/10/2026")
BAD_EVENT_TYPES: tuple[str, ...] = ("click", "wishlist_add")
FUTURE_SHIFT_DAYS = 365

# Causal response to a campaign (datagen/response.py): each persona's uplift role ...
RESPONSE_ROLES: tuple[str, ...] = ("persuadable", "sure_thing", "lost_cause", "do_not_disturb")
PERSONA_ROLES: dict[str, str] = {
    "deal_seeker": "persuadable", "fashionista": "persuadable", "loyal_premium": "sure_thing",
    "family_replenisher": "sure_thing", "window_shopper": "lost_cause", "lapsed": "lost_cause",
    "gifter": "do_not_disturb",
}
# ... persuadables gain purchase hazard PERSUADE_HAZARD × (COUPON_BASE + coupon trait) × strength × reach
# × channel pull × creative factor; strength = share / (share + HALF_STRENGTH_SHARE) of the order given away.
PERSUADE_HAZARD = 1.2
COUPON_BASE = 0.5
HALF_STRENGTH_SHARE = 0.10
CHANNEL_PULL: dict[str, float] = {"email": 0.7, "push": 0.85, "sms": 1.0, "display": 0.4, "social": 0.55}
CREATIVE_RANGE = (0.75, 1.25)  # a creative's factor: a stable hash of its id spread over this range
# ... do-not-disturb users lose this share of their purchase probability when contacted on a channel.
PUT_OFF: dict[str, float] = {"email": 0.25, "push": 0.4, "sms": 0.5, "display": 0.15, "social": 0.2}
RESPONSE_SHIPPING_FEE = 5.0  # what a free_shipping coupon gives away (as campaigns.valuation.SHIPPING_FEE)
ORDER_ITEMS = (1, 2)  # products per simulated order ...
ORDER_ITEM_WEIGHTS = (0.75, 0.25)  # ... and their weights

# Sequential intent (datagen/intent.py, `journey generate --sequential-intent`): a session that carts
# without buying brings its user back CART_RETURN × min(1, buy trait) of the time, after 1 + a
# geometric number of days (mean RETURN_DELAY_DAYS), to the carted product; the return buys it with
# RETURN_BUY × min(1, buy trait) × 2^(−days since the cart / INTEREST_HALF_LIFE_DAYS). A return that
# buys nothing is abandoned again and may return again, up to RETURN_ROUNDS visits after the first.
CART_RETURN = 0.55
RETURN_DELAY_DAYS = 2.5
RETURN_BUY = 0.85
INTEREST_HALF_LIFE_DAYS = 4.0
RETURN_ROUNDS = 3
