"""Tests of the rule language (shopseg.rules)."""
