"""`TransferReport`: what `transfer_weights` copied, and what it did not, weight by weight."""

import dataclasses

STATUSES = ("copied", "adapted", "shape mismatch", "missing in source", "unused in source", "not loaded")


@dataclasses.dataclass(frozen=True)
class TransferRow:
    path: str
    status: str
    source_shape: tuple | None
    target_shape: tuple | None


class TransferReport:
    """Rows ``(path, status, source shape, target shape)``; prints as a table.

    Statuses: ``copied``; ``adapted`` (carried across a change of channels,
    classes or vocabulary by `carry_weights`); ``shape mismatch`` (both have the path, shapes
    differ: left as initialised); ``missing in source`` (the target's weight
    has no counterpart: left as initialised); ``unused in source`` (a source
    weight nothing took); ``not loaded`` (skipped by a `dont_load` pattern).
    """

    def __init__(self, rows, notes=()):
        self.rows = list(rows)
        self.notes = list(notes)  # lines that say how the adapted heads were carried (e.g. which characters)

    def by_status(self, status):
        """Paths with a given status."""
        return [row.path for row in self.rows if row.status == status]

    @property
    def copied(self):
        return self.by_status("copied")

    @property
    def problems(self):
        """Rows that are neither copied nor deliberately skipped."""
        return [row for row in self.rows if row.status not in ("copied", "adapted", "not loaded")]

    def counts(self):
        return {status: len(self.by_status(status)) for status in STATUSES}

    def as_dict(self):
        return {
            "counts": self.counts(),
            "rows": [dataclasses.asdict(row) for row in self.rows],
            "notes": self.notes,
        }

    def __str__(self):
        def shape(s):
            return "-" if s is None else "x".join(map(str, s)) or "scalar"

        width = max([len("weight")] + [len(row.path) for row in self.rows])
        lines = [f"{'weight':<{width}}  {'status':<17}  {'source':>14}  {'target':>14}"]
        lines.append("-" * len(lines[0]))
        for row in self.rows:
            lines.append(
                f"{row.path:<{width}}  {row.status:<17}  {shape(row.source_shape):>14}  {shape(row.target_shape):>14}"
            )
        counts = ", ".join(f"{n} {status}" for status, n in self.counts().items() if n)
        lines.append(f"{len(self.rows)} weights: {counts}")
        return "\n".join(lines + self.notes)

    __repr__ = __str__
