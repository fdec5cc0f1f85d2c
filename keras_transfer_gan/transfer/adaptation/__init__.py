"""Adapting a model to a target: copying weights with a report, carrying heads, freezing, scale/shift adaptation."""

from keras_transfer_gan.transfer.adaptation.adapters import adapter_target
from keras_transfer_gan.transfer.adaptation.freeze_summary import FreezeSummary
from keras_transfer_gan.transfer.adaptation.freezing import (
    freeze,
    freeze_discriminator_blocks,
    freeze_generator_blocks,
    layer_paths,
    set_trainable,
    unfreeze,
)
from keras_transfer_gan.transfer.adaptation.heads import carry_weights, derive_model, rebuild_heads, rebuilt_target
from keras_transfer_gan.transfer.adaptation.latent_adaptor import latent_adaptor_target
from keras_transfer_gan.transfer.adaptation.lora import lora_target, merge_lora
from keras_transfer_gan.transfer.adaptation.scale_shift import adapt_scale_shift, fold_modulation, scale_shift_target
from keras_transfer_gan.transfer.adaptation.transfer_report import TransferReport
from keras_transfer_gan.transfer.adaptation.weights import named_weights, submodels, transfer_weights

__all__ = ["FreezeSummary", "TransferReport", "adapt_scale_shift", "adapter_target", "carry_weights", "derive_model",
           "fold_modulation", "freeze", "freeze_discriminator_blocks", "freeze_generator_blocks",
           "latent_adaptor_target", "layer_paths", "lora_target", "merge_lora", "named_weights", "rebuild_heads",
           "rebuilt_target", "scale_shift_target", "set_trainable", "submodels", "transfer_weights", "unfreeze"]
