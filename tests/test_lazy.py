"""Package attributes imported on first use (``shopseg._lazy``)."""

from __future__ import annotations

import pytest

from shopseg._lazy import lazy_attributes


def test_a_lazy_attribute_is_imported_once_and_kept() -> None:
    namespace: dict[str, object] = {}
    getattr_ = lazy_attributes("pkg", {"sqrt": "math"}, namespace)
    import math

    assert getattr_("sqrt") is math.sqrt and namespace == {"sqrt": math.sqrt}


def test_an_unknown_attribute_raises_attribute_error_naming_the_package() -> None:
    getattr_ = lazy_attributes("shopseg.predict", {}, {})
    with pytest.raises(AttributeError, match="module 'shopseg.predict' has no attribute 'nope'"):
        getattr_("nope")
