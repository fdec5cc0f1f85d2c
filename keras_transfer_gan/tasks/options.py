"""`TaskOptions`: a task's options, written once (field, default, help, check) and read by Python and the CLI.

A task's options are a dataclass whose fields come from `option(...)`: the default, one line of help, and
what a value must be (``minimum``, ``choices``, ``parse`` for text given on the command line). Building the
dataclass checks every field, so a bad value is a one-line `ValueError` naming the option, from Python and
from ``ktg transfer`` alike; the CLI makes one flag per field (``ktg transfer --recipe NAME --help`` lists
them). Nothing here imports TensorFlow: the CLI reads the options before it starts TensorFlow.

Example:
>>> @dataclasses.dataclass
... class MyOptions(TaskOptions):
...     strength: float = option(1.0, "How hard to pull towards the source.", minimum=0)
>>> MyOptions(strength=-1)
Traceback (most recent call last):
ValueError: --strength must be >= 0, got -1
"""

import dataclasses


def option(default, help, minimum=None, choices=None, parse=None, metavar=None):
    """A field of a `TaskOptions` dataclass.

    Args:
        default: the value when not given (None: off).
        help: one line for ``--help``.
        minimum: the smallest value allowed (None: any).
        choices: the values allowed (None: any).
        parse: callable turning command-line text into the value (e.g. ``"0.1,1"`` -> ``(0.1, 1.0)``);
            a value given as a string to a field with `parse` is parsed.
        metavar: how ``--help`` names the value.
    """
    return dataclasses.field(default=default, metadata={
        "help": help, "minimum": minimum, "choices": choices, "parse": parse, "metavar": metavar})


def _kind(field):
    """``bool``, ``int``, ``float`` or ``str``: the field's value type for a command-line flag."""
    hint = field.type if isinstance(field.type, type) else None
    if hint is None:  # `int | None`, "int", typing.Optional[int]
        names = str(field.type).replace("typing.Optional[", "").replace("]", "").split("|")
        hint = {"bool": bool, "int": int, "float": float}.get(names[0].strip(), str)
    return hint if hint in (bool, int, float) else str


@dataclasses.dataclass
class TaskOptions:
    """Base of every task's options; the fields are the subclass's. Checked when built."""

    def __post_init__(self):
        for field in dataclasses.fields(self):
            setattr(self, field.name, self._checked(field, getattr(self, field.name)))

    @staticmethod
    def _checked(field, value):
        meta = field.metadata
        if value is None:
            return value
        if isinstance(value, str) and meta.get("parse") is not None:
            try:
                value = meta["parse"](value)
            except ValueError:
                raise ValueError(f"--{field.name}: expected '{meta.get('metavar') or 'a value'}', got {value!r}") from None
        kind = _kind(field)
        if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))
                                     or (kind is int and not float(value).is_integer())):
            raise ValueError(f"--{field.name} must be {'an integer' if kind is int else 'a number'}, got {value!r}")
        if kind is bool and not isinstance(value, bool):
            raise ValueError(f"--{field.name} must be true or false, got {value!r}")
        if meta.get("choices") is not None and value not in meta["choices"]:
            raise ValueError(f"--{field.name} must be one of {', '.join(map(str, meta['choices']))}, got {value!r}")
        if meta.get("minimum") is not None and value < meta["minimum"]:
            raise ValueError(f"--{field.name} must be >= {meta['minimum']}, got {value!r}")
        return int(value) if kind is int else value

    @classmethod
    def fields(cls):
        """The option fields, in declaration order."""
        return dataclasses.fields(cls)

    @classmethod
    def names(cls):
        return tuple(field.name for field in cls.fields())

    @classmethod
    def from_settings(cls, task_name, settings):
        """Options from a dict of given values; a key that is not an option is a one-line error."""
        unknown = sorted(set(settings) - set(cls.names()))
        if unknown:
            raise ValueError(f"--{unknown[0]} is not an option of --recipe {task_name} "
                             f"(its options: {', '.join('--' + n for n in cls.names()) or 'none'})")
        return cls(**settings)

    @classmethod
    def help_text(cls, task_name):
        """The ``--help`` of a task's options: one line per option, with its default."""
        lines = [f"Options of --recipe {task_name}:"]
        for field in cls.fields():
            meta = field.metadata
            value = meta.get("metavar") or ("|".join(map(str, meta["choices"])) if meta.get("choices") else
                                            _kind(field).__name__)
            lines.append(f"  --{field.name}=<{value}>  {meta['help']} (default: {field.default})")
        return "\n".join(lines)

    def as_dict(self):
        return dataclasses.asdict(self)


def kind_of(field):
    """The value type of an option field (bool, int, float or str), for the CLI's flag."""
    return _kind(field)

