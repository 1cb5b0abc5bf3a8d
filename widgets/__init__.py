"""Reusable Textual widgets. They may use data types but never import app."""
