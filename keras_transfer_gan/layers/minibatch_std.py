"""`MinibatchStd`: StyleGAN's minibatch standard-deviation feature for the discriminator."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class MinibatchStd(keras.layers.Layer):
    """Appends `num_channels` feature maps: the standard deviation of the features over groups of `group_size`
    samples, averaged over channels and pixels (NVlabs' ``MinibatchStdLayer``), so D can see a batch's variety.
    **Departure from NVlabs** (which requires the batch to be a multiple of the group): the group is the divisor
    of the batch closest to `group_size`, the larger on a tie (a batch of 10 with groups of 4 is grouped by 5, a
    batch smaller than the group is one group), so a few-shot batch of N images works for any N; a prime batch
    larger than twice the group is one group.

    Args:
        group_size: int. Defaults to 4.
        num_channels: int. Defaults to 1.
    """

    def __init__(self, group_size=4, num_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.group_size, self.num_channels = int(group_size), int(num_channels)

    def call(self, x):
        n, h, w, c = ops.shape(x)[0], x.shape[1], x.shape[2], x.shape[3]
        g = self.group_for(n)
        f = self.num_channels
        y = ops.reshape(x, (g, -1, h, w, f, c // f))  # [G, n, H, W, F, c]
        y = y - ops.mean(y, axis=0)
        y = ops.sqrt(ops.mean(ops.square(y), axis=0) + 1e-8)  # [n, H, W, F, c]
        y = ops.mean(y, axis=(1, 2, 4))  # [n, F]
        y = ops.tile(ops.reshape(y, (-1, 1, 1, f)), (g, h, w, 1))  # [N, H, W, F]
        return ops.concatenate([x, ops.cast(y, x.dtype)], axis=-1)

    def group_for(self, batch):
        """The group for a batch of `batch` samples: its divisor closest to `group_size`, the larger on a tie (a
        Python int for a static batch, a scalar tensor for a dynamic one)."""
        if isinstance(batch, int):
            return min(range(1, batch + 1), key=lambda d: (batch % d != 0, abs(d - self.group_size), -d))
        candidates = ops.arange(1, batch + 1, dtype="int32")
        batch = ops.cast(batch, "int32")
        # Twice the distance, less one above the group (ties go to the larger); non-divisors never win.
        score = 2 * ops.abs(candidates - self.group_size) - ops.cast(candidates > self.group_size, "int32")
        score = ops.where(ops.equal(batch % candidates, 0), score, 2 * batch + 2 * self.group_size + 1)
        return ops.take(candidates, ops.argmin(score))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_channels)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "num_channels": self.num_channels}
