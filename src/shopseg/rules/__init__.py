"""The segment rule language: text and JSON forms, one AST, validation, Ibis compilation and Python evaluation.

Modules: :mod:`~shopseg.rules.nodes` (the AST), :mod:`~shopseg.rules.parse`
(text and JSON form -> AST), :mod:`~shopseg.rules.validate` (every issue,
raised once), :mod:`~shopseg.rules.compile` (AST -> Ibis predicate, batch),
:mod:`~shopseg.rules.evaluate` (AST x one profile -> bool, live),
:mod:`~shopseg.rules.render` (AST -> text/JSON), :mod:`~shopseg.rules.fields`
(the field registry), :mod:`~shopseg.rules.limits` (rule size bounds) and
:mod:`~shopseg.rules.values` (warnings for values nobody has). Saved segments,
the RFM map and lifecycle stages live in :mod:`shopseg.segments`.

>>> from shopseg.rules.parse import parse_segment
>>> parse_segment("orders >= 3").rule
Compare(field='orders', op='>=', value=3)
"""
