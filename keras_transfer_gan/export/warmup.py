"""TF Serving warmup requests (``assets.extra/tf_serving_warmup_requests``): PredictionLog TFRecords."""

import numpy as np
import tensorflow as tf


def _apis():
    try:
        from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
    except ImportError as exc:  # the `serving` extra
        raise ValueError(f"warmup requests need tensorflow-serving-api (pip install tensorflow-serving-api): {exc}") \
            from None
    return model_pb2, predict_pb2, prediction_log_pb2


def write_warmup_requests(path, model_name, requests):
    """Write one PredictRequest per ``(signature_name, {input: array})`` as PredictionLog records."""
    _, predict_pb2, prediction_log_pb2 = _apis()
    with tf.io.TFRecordWriter(path) as writer:
        for signature, inputs in requests:
            request = predict_pb2.PredictRequest()
            request.model_spec.name = model_name
            request.model_spec.signature_name = signature
            for key, value in inputs.items():
                request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
            log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())


def read_warmup_requests(path):
    """``[(signature_name, {input: array})]`` parsed back from a warmup file."""
    _, _, prediction_log_pb2 = _apis()
    out = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        out.append((request.model_spec.signature_name,
                    {k: np.asarray(tf.make_ndarray(v)) for k, v in request.inputs.items()}))
    return out
