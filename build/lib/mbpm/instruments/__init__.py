"""Questionnaire scoring: one module per instrument, each with its key as data."""
