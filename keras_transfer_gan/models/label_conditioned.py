"""`LabelConditioned`: what a model that may be conditioned on class labels declares, from its `num_classes`."""


class LabelConditioned:
    """Mixin (before the model's base class): with ``num_classes`` > 0 the model trains on labelled images
    and samples by label; with 0 it takes plain images and no conditions (`Architecture`'s declarations)."""

    @property
    def consumes(self):
        return "labelled_images" if self.num_classes else "images"

    @property
    def conditions(self):
        return "labels" if self.num_classes else None
