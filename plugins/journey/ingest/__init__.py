"""Stage 1, ingest: files in any known format → curated, typed, de-duplicated events in the lake.

    result = run_ingest(spark, settings, source, "canonical", run_id)   # events; bad rows → quarantine
    ingest_users(spark, settings, "users.csv", run_id)                  # users dimension
    ingest_product_titles(spark, settings, source, run_id)              # products from order lines

sources.py finds and reads files as text, adapters.py maps each feed format onto the canonical
columns (mapping.py: the YAML of the `mapped` format), events.py types, checks and de-duplicates,
quarantine.py shows and replays rejected rows. See docs/formats.md.
"""

from journey.ingest.adapters import FORMATS, FeedFormat, feed_format
from journey.ingest.events import IngestError, IngestResult, run_ingest
from journey.ingest.mapping import ColumnMapping, MappingError, load_mapping
from journey.ingest.products import ProductsLoad, ingest_product_titles
from journey.ingest.sources import SourceError, read_source
from journey.ingest.users import UsersLoad, ingest_users

__all__ = [
    "FORMATS", "ColumnMapping", "FeedFormat", "IngestError", "IngestResult", "MappingError", "ProductsLoad",
    "SourceError", "UsersLoad", "feed_format", "ingest_product_titles", "ingest_users", "load_mapping",
    "read_source", "run_ingest",
]
