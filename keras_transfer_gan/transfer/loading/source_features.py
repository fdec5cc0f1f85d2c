"""`feature_extractor`: a frozen copy of a source model's feature network (TGAN's backbone, a classifier's)."""

import keras

from keras_transfer_gan.models.architecture import Architecture
from keras_transfer_gan.transfer.loading.pretrained import load_pretrained


def feature_extractor(source):
    """A frozen copy of the source's feature network, named ``backbone``.

    An architecture gives its declared `feature_network` (a classifier its backbone's pooled features, a GAN
    its discriminator body); any other Keras model is used whole. `source` may be a zoo name or a file.
    """
    source = source if isinstance(source, keras.Model) else load_pretrained(source)
    if isinstance(source, Architecture):
        body = source.feature_network()
    elif isinstance(source, keras.Model):
        body = source
    else:
        raise ValueError(f"cannot take features from a {type(source).__name__}")
    copy = keras.models.clone_model(body)
    copy.set_weights(body.get_weights())
    extractor = keras.Model(copy.inputs[0], copy.outputs[0], name="backbone")
    extractor.trainable = False
    return extractor
