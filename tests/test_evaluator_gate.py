"""Every domain evaluator must see what its domain changes: the gate of #24 on real data.

For each domain with a zoo evaluator (`extractor_for`) and its second, independently trained evaluator
(`second_extractor_for`, a VAE's encoder): the FID of the neighbouring domain's test images against the
domain's test images is at least 20x the domain's floor (FID between two disjoint halves of its test images),
and on each study target a copier of 25 real target images (repeated to 500) scores better than the untouched
source's samples. The digit classifier alone on MNIST-M (trained to ignore backgrounds) fails
the second (copier 7.45 against the gray source's 2.53 at N = 25) and passes the first only narrowly (23x);
the appearance evaluator passes both (46x; copier 23.1 against 91.4).
"""

import numpy as np
import pytest

from keras_transfer_gan.data import few_shot_split, load_images
from keras_transfer_gan.metrics import extractor_for, get_extractor, second_extractor_for
from keras_transfer_gan.metrics.evaluation import split_halves
from keras_transfer_gan.metrics.frechet import frechet_distance, statistics
from keras_transfer_gan.transfer import load_pretrained


def _fid(extractor, a, b):
    return frechet_distance(*statistics(extractor.features(a)), *statistics(extractor.features(b)))


def _test_images(spec, channels):
    images, _ = load_images(spec, image_size=32, channels=channels, split="test", limit=1000, seed=0)
    return images


EVALUATORS = {"first": extractor_for, "second": second_extractor_for}


@pytest.mark.slow
@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize("domain, neighbour, channels", [
    ("mnist_m", "mnist", 3),  # gray digits shown as RGB against the same digits over colour patches
    ("fashion_mnist", "mnist", 1),
    ("mnist", "fashion_mnist", 1),
    ("fashion_sketch", "fashion_mnist", 1),  # the same items drawn, against the items themselves
])
def test_the_neighbouring_domain_is_at_least_20x_the_floor(domain, neighbour, channels, evaluator):
    extractor = get_extractor(EVALUATORS[evaluator](domain))
    own = _test_images(domain, channels)
    first, second = split_halves(own)
    floor = _fid(extractor, own[first], own[second])
    other = _fid(extractor, _test_images(neighbour, channels)[: len(second)], own[second])
    assert other >= 20 * floor, (extractor.name, floor, other)


@pytest.mark.slow
@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize("source, target, channels", [
    ("dcgan_mnist", "mnist_m", 3),  # colour
    ("dcgan_fashion_base", "fashion_mnist:3,9", 1),  # close
    ("dcgan_mnist", "fashion_mnist:3,9", 1),  # far
    ("dcgan_fashion_base", "fashion_sketch:0,1,2,4,5,6,7,8", 1),  # correspondence
])
def test_a_copier_of_real_target_images_beats_the_untouched_source(source, target, channels, evaluator):
    extractor = get_extractor(EVALUATORS[evaluator](target))
    reference = _test_images(target, channels)
    images, _ = few_shot_split(target, 25, 10, 32, channels, seed=0)
    copier = _fid(extractor, images[np.resize(np.arange(len(images)), 500)], reference)
    samples = np.asarray(load_pretrained(source).generate(500, seed=12345))
    samples = np.repeat(samples, channels, axis=-1) if samples.shape[-1] != channels else samples
    untouched = _fid(extractor, samples, reference)
    assert copier < untouched, (extractor.name, copier, untouched)


@pytest.mark.slow
def test_the_colour_weight_is_the_balance_rule_on_train_images():
    """The appearance evaluator's weight is `balanced_colour_weight` on 2,000 MNIST-M train images (never the
    test split), as recorded."""
    from keras_transfer_gan.metrics import APPEARANCE_EVALUATORS, balanced_colour_weight

    classifier, weight, grid = APPEARANCE_EVALUATORS["mnist_m_appearance"]
    images, _ = load_images("mnist_m", image_size=32, channels=3, split="train", limit=2000, seed=0)
    assert balanced_colour_weight(load_pretrained(classifier), images, grid) == pytest.approx(weight, abs=0.01)
