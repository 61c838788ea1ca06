"""Prices: the embedded price book (issue: cost model) and, later, a refreshed cache."""
