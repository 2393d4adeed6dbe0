"""Locust load profiles for the Perplexity API (targets PERPLEXITY_BASE_URL)."""
