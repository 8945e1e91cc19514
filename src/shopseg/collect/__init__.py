"""Collection: messages of the tracking a store already runs (Segment-spec SDKs, Shopify) as shopseg events.

- :mod:`shopseg.collect.segment_spec` maps Segment HTTP Tracking API messages (identify, track, page,
  screen, group, alias; the E-commerce Spec v2) to canonical ``events`` rows.
- :mod:`shopseg.collect.materialize` turns the collected events that carry profile, product or order
  data into ``customers``, ``products``, ``orders`` and ``order_lines`` rows, inside the live engine's
  apply transaction (so a journal replay after a crash rebuilds them too).
"""

from __future__ import annotations

__all__: list[str] = []
