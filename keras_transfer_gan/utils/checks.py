"""Argument checks that raise one-line `ValueError`s naming who asked and what was wrong."""


def check_positive_int(value, name, who, allow_none=False, minimum=1):
    """`value` must be an int >= `minimum` (bools refused); None passes with `allow_none`. Returns it."""
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise ValueError(f"{who}: {name} must be {what}, got {value!r}")
    return value


def check_choice(value, name, who, choices):
    """`value` must be one of `choices`. Returns it."""
    if value not in choices:
        raise ValueError(f"{who}: {name} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value
