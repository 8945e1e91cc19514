"""The segment rule language: text and JSON forms, one AST, validation, Ibis compilation and Python evaluation.

- reading: :mod:`~shopseg.rules.nodes` (the AST), :mod:`~shopseg.rules.parse` (text form, and
  :func:`~shopseg.rules.parse.parse_segment` for either), :mod:`~shopseg.rules.grammar` (the Lark grammar
  and its syntax errors), :mod:`~shopseg.rules.json_form`, :mod:`~shopseg.rules.render` (AST -> text/JSON);
- checking: :mod:`~shopseg.rules.validate` (every issue, raised once), :mod:`~shopseg.rules.issues` (issues
  that carry their place), :mod:`~shopseg.rules.static_checks` (never/always matches),
  :mod:`~shopseg.rules.limits` (rule size bounds), :mod:`~shopseg.rules.values` (values nobody has),
  :mod:`~shopseg.rules.fields` (the field registry);
- running: :mod:`~shopseg.rules.compile` (AST -> Ibis predicate, batch) with
  :mod:`~shopseg.rules.sql_functions`, :mod:`~shopseg.rules.evaluate` (AST x one profile -> bool, live)
  with :mod:`~shopseg.rules.semantics` (dates, windows, properties, aggregates, distance);
- :mod:`~shopseg.rules.reference` generates ``docs/segment-language.md``
  (``python -m shopseg.rules.reference > docs/segment-language.md``).

Saved segments, the RFM map, lifecycle stages and the segment query service live in :mod:`shopseg.segments`.

>>> from shopseg.rules.parse import parse_segment
>>> parse_segment("orders >= 3").rule
Compare(field='orders', op='>=', value=3)
"""
