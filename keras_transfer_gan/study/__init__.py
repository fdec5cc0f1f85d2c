"""Transfer-versus-scratch studies on any data (`run_study`, ``ktg study``): arms, figures and verdict."""

from keras_transfer_gan.study.arms import (
    METHODS,
    build_arm_model,
    copier_floor,
    few_shot_dataset,
    method_label,
    nearest_rmse,
    parse_method,
    run_arm,
)
from keras_transfer_gan.study.report import BASELINE, arm_summary, summarize, table, verdict
from keras_transfer_gan.study.settings import StudySettings
from keras_transfer_gan.study.study import run_cells, run_study, study_cells, write_study
from keras_transfer_gan.study.target import StudyTarget

__all__ = ["BASELINE", "METHODS", "StudySettings", "StudyTarget", "arm_summary", "build_arm_model", "copier_floor",
           "few_shot_dataset", "method_label", "nearest_rmse", "parse_method", "run_arm", "run_cells", "run_study",
           "study_cells", "summarize", "table", "verdict", "write_study"]
