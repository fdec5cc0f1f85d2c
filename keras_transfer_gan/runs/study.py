"""`study_run`: what `ktg study` does: transfer arms against scratch + DiffAugment on one source and any data."""

from keras_transfer_gan.study import run_study


def _ints(text, name):
    try:
        return tuple(int(v) for v in str(text).split(",") if v.strip())
    except ValueError:
        raise ValueError(f"--{name}: expected a comma list of integers, got {text!r}") from None


def study_run(source, dataset, out, sizes="10,25", seeds="0", methods=None, reference="test", **settings):
    """`run_study` from command-line text: `sizes` and `seeds` are comma lists, `methods` a comma list of arms
    (default `study.METHODS`, or `study.arms.DIFFUSION_METHODS` for a diffusion source), `reference` ``"test"``
    or a number of held-out train images. Returns its result."""
    arms = tuple(m.strip() for m in methods.split(",") if m.strip()) if methods else None
    if str(reference) != "test":
        reference = _ints(reference, "reference")
        if len(reference) != 1:
            raise ValueError(f"--reference: expected test or one number of images, got {reference}")
        reference = reference[0]
    return run_study(source, dataset, out, sizes=_ints(sizes, "sizes"), seeds=_ints(seeds, "seeds"), methods=arms,
                     reference=reference, **settings)
