"""Maturity assessment for police–mental health partnerships: the library (never imports streamlit)."""

__version__ = "0.1.0"
