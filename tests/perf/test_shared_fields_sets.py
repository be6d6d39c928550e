"""Spec models share their fields-set between instances built alike (a third of their
memory at scale); that is only safe while every spec model is frozen."""

from __future__ import annotations

from wasync.model import QrCode, Strict


def _all_models(cls: type[Strict]) -> list[type[Strict]]:
    return [cls, *(m for sub in cls.__subclasses__() for m in _all_models(sub))]


def test_every_spec_model_is_frozen() -> None:
    # A model that is not frozen adds to its fields-set in place on assignment: with a
    # shared set, that would change what every other instance says was given.
    thawed = [m.__name__ for m in _all_models(Strict) if not m.model_config.get("frozen")]
    assert not thawed


def qr(label: str, **more: str) -> QrCode:
    entry = {"account": "a", "phone": "8613800000000", "label": label, "prefilled_message": "Hi"}
    return QrCode.model_validate({**entry, **more}, strict=True)


def test_a_copy_with_changes_leaves_the_others_fields_as_given() -> None:
    a, b = qr("a"), qr("b")
    assert a.model_fields_set is b.model_fields_set  # shared, as built alike
    pinned = a.model_copy(update={"code": "C1"})
    assert "code" in pinned.model_fields_set
    assert "code" not in a.model_fields_set and "code" not in b.model_fields_set
    assert qr("c", image="PNG").model_fields_set == {*a.model_fields_set, "image"}
