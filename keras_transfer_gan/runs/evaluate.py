"""`evaluate_run`: a generator's FID/KID/IS/PR against a data spec's reference images, written to JSON."""

import json

from keras_transfer_gan.data import load_images, reference_split
from keras_transfer_gan.metrics import METRICS, evaluate_samples, extractor_for, generate_images
from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.runs.outputs import load_source
from keras_transfer_gan.utils.atomic import write_text
from keras_transfer_gan.utils.checks import check_positive_int


def evaluate_run(model, dataset, metrics=METRICS, n=1000, limit=None, seed=0, extractor="auto", split="auto",
                 out="evaluation.json", data_dir=None, safe_mode=True):
    """What `ktg evaluate` does: `n` samples of `model` against real images of `dataset`, on an extractor.

    ``split="auto"`` takes the references from the test split where the data has one (never trained on),
    ``extractor="auto"`` the zoo evaluator of the data's domain (`extractor_for`). A model generating
    from images samples from the reference images themselves.

    Returns:
        The result dict (metrics, counts, extractor, model, dataset, split), also written to `out`.
    """
    check_positive_int(n, "n", "evaluate")
    unknown = [m for m in metrics if m not in METRICS]
    if not metrics or unknown:
        raise ValueError(f"--metrics: unknown metric {unknown[0] if unknown else ''!r} (choose from {', '.join(METRICS)})")
    net = load_source(model, safe_mode)
    if not isinstance(net, Architecture) or net.generates != "images":
        raise ValueError(f"--model: {type(net).__name__} does not generate images")
    split = reference_split(dataset) if split == "auto" else split
    extractor = extractor_for(dataset) if extractor == "auto" else extractor
    real, _ = load_images(dataset, image_size=net.image_size, channels=net.channels, limit=limit or n, seed=seed,
                          data_dir=data_dir, split=split)
    fake = generate_images(net, n, seed=seed, conditions=real)
    key = f"{dataset}-{split}-{net.image_size}x{net.channels}-seed{seed}"
    result = evaluate_samples(real, fake, extractor=extractor, metrics=metrics, reference_key=key, seed=seed)
    result.update(model=model, dataset=dataset, split=split)
    write_text(out, json.dumps(result, indent=2))
    return result
