"""Product dimension from order-line feeds: descriptions become product titles.

Order lines (the `transactions` format) name each product on every line. Per StockCode the
title is the most frequent non-empty Description (ties: alphabetically first; exports often
hold typos or notes such as "damaged" on a few lines) and the price is the unit price of its
latest sale. The lake keeps one row per product under `curated/products` (columns of
`schemas.PRODUCT_COLUMNS` plus run_id); a new batch replaces the rows of the products it
names and keeps the others.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from journey import lake
from journey.config import Settings
from journey.ingest.adapters import CANCELLATION_PREFIX, TRANSACTION_TIME_FORMATS, TRANSACTION_ZONE, local_time
from journey.ingest.sources import read_source
from journey.schemas import PRODUCT_COLUMNS

CURATED_PRODUCTS = "curated/products"


@dataclass(frozen=True)
class ProductsLoad:
    """Accounting of a product-title load."""

    products: int  # products named by this batch
    total: int  # products in the dimension afterwards
    path: str


def _trimmed(column: str) -> F.Column:
    """Trimmed text, null when empty."""
    return F.nullif(F.trim(F.col(column)), F.lit(""))


def product_titles(lines: DataFrame) -> DataFrame:
    """One row per StockCode (PRODUCT_COLUMNS): most frequent description as title, latest unit price."""
    named = lines.select(_trimmed("StockCode").alias("product_id"), _trimmed("Description").alias("title"))
    counted = named.where(F.col("product_id").isNotNull() & F.col("title").isNotNull()).groupBy(
        "product_id", "title").count()
    best = Window.partitionBy("product_id").orderBy(F.desc("count"), "title")
    titles = counted.withColumn("_rank", F.row_number().over(best)).where(F.col("_rank") == 1)
    sale_time = local_time(F.col("InvoiceDate"), TRANSACTION_TIME_FORMATS, TRANSACTION_ZONE)
    sales = lines.select(
        _trimmed("StockCode").alias("product_id"),
        sale_time.alias("sold_at"),
        _trimmed("UnitPrice").try_cast("double").alias("price"),
        _trimmed("Quantity").try_cast("int").alias("quantity"),
        F.upper(F.trim(F.col("InvoiceNo"))).startswith(CANCELLATION_PREFIX).alias("cancelled"),
    ).where(~F.col("cancelled") & (F.col("quantity") > 0) & (F.col("price") > 0) & F.col("sold_at").isNotNull())
    prices = sales.groupBy("product_id").agg(F.max_by("price", F.struct("sold_at", "price")).alias("price"))
    typed = {"category": F.lit(None).cast("string"), "brand": F.lit(None).cast("string"),
             "margin": F.lit(None).cast("double")}
    return titles.join(prices, "product_id", "left").withColumns(typed).select(*PRODUCT_COLUMNS)


def merge_products(new: DataFrame, existing: DataFrame | None, run_id: str) -> DataFrame:
    """The dimension after a batch: the batch's products replace theirs, the others stay."""
    stamped = new.withColumn("run_id", F.lit(run_id))
    if existing is None:
        return stamped
    kept = existing.join(new.select("product_id"), "product_id", "left_anti").select(*stamped.columns)
    return kept.unionByName(stamped)


def ingest_product_titles(spark: SparkSession, settings: Settings, source: str, run_id: str) -> ProductsLoad:
    """Read the order lines of `source` again and update the product dimension in the lake."""
    lines, _ = read_source(spark, source, "transactions")
    titles = product_titles(lines).cache()
    target = lake.path(settings, CURATED_PRODUCTS)
    existing = spark.read.parquet(target) if lake.exists(spark, target) else None
    merged = merge_products(titles, existing, run_id)
    if existing is not None:
        merged = merged.localCheckpoint()  # cut the lineage: the target is replaced while it is read
    lake.write_parquet_atomic(merged.coalesce(1), target)
    load = ProductsLoad(products=titles.count(), total=spark.read.parquet(target).count(), path=target)
    titles.unpersist()
    return load
