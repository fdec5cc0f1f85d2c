"""`MinibatchStd`: StyleGAN's minibatch standard-deviation feature for the discriminator."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_transfer_gan")
class MinibatchStd(keras.layers.Layer):
    """Appends `num_channels` feature maps: the standard deviation of the features over groups of `group_size`
    samples, averaged over channels and pixels (NVlabs' ``MinibatchStdLayer``), so D can see a batch's variety.
    The batch must be a multiple of the group (the group is the batch when it is smaller).

    Args:
        group_size: int. Defaults to 4.
        num_channels: int. Defaults to 1.
    """

    def __init__(self, group_size=4, num_channels=1, **kwargs):
        super().__init__(**kwargs)
        self.group_size, self.num_channels = int(group_size), int(num_channels)

    def call(self, x):
        n, h, w, c = ops.shape(x)[0], x.shape[1], x.shape[2], x.shape[3]
        g = ops.minimum(self.group_size, n)
        f = self.num_channels
        y = ops.reshape(x, (g, -1, h, w, f, c // f))  # [G, n, H, W, F, c]
        y = y - ops.mean(y, axis=0)
        y = ops.sqrt(ops.mean(ops.square(y), axis=0) + 1e-8)  # [n, H, W, F, c]
        y = ops.mean(y, axis=(1, 2, 4))  # [n, F]
        y = ops.tile(ops.reshape(y, (-1, 1, 1, f)), (g, h, w, 1))  # [N, H, W, F]
        return ops.concatenate([x, ops.cast(y, x.dtype)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + self.num_channels)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "num_channels": self.num_channels}
