"""Journey: the decision layer of an e-commerce marketing stack."""

__version__ = "0.1.0"
