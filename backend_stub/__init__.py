"""Zikao's thin backend: accounts, verification records, catalog, orders, documents."""
