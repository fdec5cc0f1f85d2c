"""`StudyTarget`: one source and target data of a study: the reference, the evaluator and the few-shot draws."""

import os

from keras_transfer_gan import zoo
from keras_transfer_gan.data import few_shot_split, load_images
from keras_transfer_gan.metrics import extractor_for, get_extractor, second_extractor_for
from keras_transfer_gan.transfer.loading import load_pretrained
from keras_transfer_gan.utils.digest import weights_digest


def source_digest(source, model):
    """``sha256:...`` of the source's checkpoint file (a zoo name, a file, a `ktg train` directory), else
    ``weights:...``, the SHA-256 of the loaded model's weights (a SavedModel, a model in memory)."""
    if isinstance(source, str):
        path = os.path.join(zoo.zoo_dir(), source, "model.keras") if zoo.is_zoo_name(source) else source
        if os.path.isdir(path) and os.path.isfile(os.path.join(path, "model.keras")):
            path = os.path.join(path, "model.keras")
        if os.path.isfile(path):
            return "sha256:" + zoo.sha256_of(path)
    return "weights:" + weights_digest(model)


class StudyTarget:
    """One source and target data: the reference, the extractors (the domain's evaluator and, where it has one,
    its second, independently trained evaluator) and the few-shot draws."""

    def __init__(self, label, source, dataset, settings, channels=None, data_dir=None):
        self.label, self.dataset, self.settings, self.data_dir = label, dataset, settings, data_dir
        self.source_name = source if isinstance(source, str) else getattr(source, "name", "model")
        self.source = load_pretrained(source) if isinstance(source, str) else source
        self.source_sha256 = source_digest(source, self.source)
        self.size = self.source.image_size
        self.channels = channels or self.source.channels
        name = extractor_for(dataset) if settings.extractor == "auto" else settings.extractor
        self.extractor = get_extractor(name)
        second = second_extractor_for(dataset) if settings.second_extractor == "auto" else settings.second_extractor
        self.second_extractor = get_extractor(second) if second and second != "none" else None
        self._test = None

    def _split(self, n, seed):
        s = self.settings
        extra = 0 if s.reference == "test" else int(s.reference)
        images, rest = few_shot_split(self.dataset, n, s.held_out + extra, self.size, self.channels, seed,
                                      data_dir=self.data_dir)
        return images, rest, extra

    def draw_train(self, n, seed):
        """``(images, held_out)`` of one few-shot draw, from the train split only (what tuning reads)."""
        images, rest, _ = self._split(n, seed)
        return images, rest[:self.settings.held_out]

    def draw(self, n, seed):
        """``(images, held_out, reference, reference_key)`` of one few-shot draw."""
        s = self.settings
        images, rest, extra = self._split(n, seed)
        if extra:
            if len(rest) < s.held_out + extra:
                raise ValueError(f"study: {self.dataset!r} has {len(rest) + n} train images, fewer than N + "
                                 f"held_out + reference ({n} + {s.held_out} + {extra})")
            return images, rest[:s.held_out], rest[s.held_out:], f"{self.dataset}-train-n{n}-s{seed}-{extra}"
        if self._test is None:
            self._test, _ = load_images(self.dataset, image_size=self.size, channels=self.channels, split="test",
                                        data_dir=self.data_dir)
        return images, rest, self._test, f"{self.dataset}-test-{self.size}x{self.channels}"
