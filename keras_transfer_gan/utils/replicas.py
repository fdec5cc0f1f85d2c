"""Per-replica slices of tensors drawn for the global batch."""

import tensorflow as tf


def replica_slice(batch_size, make_global):
    """Draw a global-batch tensor with `make_global(global_batch)` and keep this replica's rows.

    Every replica draws the same global tensor (stateless RNG, same seed) and
    keeps rows ``[id * b, (id + 1) * b)``, so the noise an example sees does
    not depend on how many replicas share the batch.
    """
    ctx = tf.distribute.get_replica_context()
    if ctx is None:  # cross-replica context: no slicing
        return make_global(batch_size)
    replicas = ctx.num_replicas_in_sync
    if replicas == 1:
        return make_global(batch_size)
    rid = tf.cast(ctx.replica_id_in_sync_group, tf.int32)
    full = make_global(batch_size * replicas)
    return full[rid * batch_size : (rid + 1) * batch_size]
