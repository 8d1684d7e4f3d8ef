"""Product-title embeddings and the title neighbours of each product.

Where product titles exist (the products CSV of the shop or the generator, and the product
dimension that order-line feeds build in the lake, `curated/products`), each title becomes a
dense unit vector: TF-IDF of its words (sublinear term frequency), reduced by a truncated SVD
to `TITLE_DIMENSIONS` latent dimensions (latent semantic analysis, so "trail running shoe" and
"running sneaker" land near each other through the words they share with other titles). The
cosine of two vectors is the title similarity; each product keeps its `neighbours` most similar
products. The catalog, not the event log, is what is embedded: it is read on the driver (a
shop's catalog is thousands to a few hundred thousand rows) and the neighbours go back to Spark.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession

from journey import lake
from journey.config import Settings
from journey.ingest.products import CURATED_PRODUCTS

TITLE_DIMENSIONS = 32
MIN_PRODUCTS = 3  # fewer titles than this: no embedding (nothing to compare)
BLOCK_ROWS = 2048  # products per block of the similarity matrix (memory: block × catalog floats)
NEIGHBOUR_COLUMNS = ("item", "product_id", "sim")


def _csv_titles(products_file: str | None) -> pd.DataFrame:
    """(product_id, title) of a products CSV that has a title column; empty otherwise."""
    if not products_file or not Path(products_file).exists():
        return pd.DataFrame(columns=["product_id", "title"])
    header = pd.read_csv(products_file, nrows=0).columns
    if "title" not in header or "product_id" not in header:
        return pd.DataFrame(columns=["product_id", "title"])
    return pd.read_csv(products_file, usecols=["product_id", "title"], dtype=str)


def load_titles(spark: SparkSession, settings: Settings, products_file: str | None) -> pd.DataFrame:
    """Every known (product_id, title): the products CSV, then the lake's product dimension for the rest."""
    frames = [_csv_titles(products_file)]
    dimension = lake.path(settings, CURATED_PRODUCTS)
    if lake.exists(spark, dimension):
        frames.append(spark.read.parquet(dimension).select("product_id", "title").toPandas())
    titles = pd.concat(frames, ignore_index=True).dropna()
    titles = titles[titles["title"].str.strip() != ""]
    return titles.drop_duplicates("product_id").sort_values("product_id").reset_index(drop=True)


def title_vectors(titles: list[str], dimensions: int = TITLE_DIMENSIONS, seed: int = 7) -> np.ndarray:
    """Unit-length LSA vectors (TF-IDF → truncated SVD) of the titles, one row per title."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tfidf = TfidfVectorizer(sublinear_tf=True, token_pattern=r"(?u)\b[^\W\d_]{2,}\b").fit_transform(titles)
    size = min(dimensions, tfidf.shape[1] - 1, tfidf.shape[0] - 1)
    dense = TruncatedSVD(size, random_state=seed).fit_transform(tfidf) if size >= 1 else tfidf.toarray()
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    return dense / np.where(norms > 0, norms, 1.0)


def nearest(vectors: np.ndarray, neighbours: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(item index, neighbour index, cosine) of each row's `neighbours` most similar other rows (cosine > 0)."""
    keep = min(neighbours, len(vectors) - 1)
    items, others, sims = [], [], []
    for start in range(0, len(vectors), BLOCK_ROWS):
        block = vectors[start:start + BLOCK_ROWS] @ vectors.T
        rows = np.arange(len(block))
        block[rows, start + rows] = -np.inf  # never a product's own neighbour
        top = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
        values = np.take_along_axis(block, top, axis=1)
        positive = values > 0
        items.append(np.repeat(start + rows, keep)[positive.ravel()])
        others.append(top[positive])
        sims.append(values[positive])
    return np.concatenate(items), np.concatenate(others), np.concatenate(sims)


def title_neighbours(spark: SparkSession, titles: pd.DataFrame, neighbours: int) -> DataFrame | None:
    """Spark rows (item, product_id, sim): each product's most title-similar products; None without titles."""
    if len(titles) < MIN_PRODUCTS:
        return None
    ids = titles["product_id"].to_numpy()
    item, other, sim = nearest(title_vectors(titles["title"].tolist()), neighbours)
    frame = pd.DataFrame({"item": ids[item], "product_id": ids[other], "sim": sim.astype(float)})
    return spark.createDataFrame(frame, "item string, product_id string, sim double")
