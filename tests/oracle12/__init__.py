"""The pandas implementations before issue 12 part 2 (commit 33cc2b9), kept verbatim as test oracles.

The overview and operations functions now aggregate in DuckDB; ``tests/test_operations_sql.py``
compares their results with these copies (every table loaded into pandas, as before) on the
simulator. Only the imports of these copies were changed (to each other).
"""
