"""Crowd annotations: whom to trust, and what the truth is.

Continuous scores (:class:`ContinuousAnnotators`: the course's good/bad annotator model, per-worker
noise and bias) and categorical labels (:class:`DawidSkene`, :class:`OneCoinDawidSkene`,
:class:`MajorityVote`, :class:`GLAD`, :class:`MACE`; :func:`~emkit.crowd.select.select_method`
picks one by held-out agreement), all on long-format answers ``(task, worker, answer)`` from
pandas, CSV or Parquet, as crowd-kit takes them. pandas is needed for DataFrame input and output
(``pip install 'emkit[crowd]'``); plain arrays of ids work without it.
"""

from emkit.crowd.categorical import (
    DawidSkene,
    DawidSkeneParams,
    OneCoinDawidSkene,
    OneCoinParams,
)
from emkit.crowd.continuous import AnnotatorParams, ContinuousAnnotators
from emkit.crowd.datasets import course_demo, simulate_scores
from emkit.crowd.glad import GLAD, GLADParams
from emkit.crowd.io import Answers, read_answers
from emkit.crowd.mace import MACE, MACEParams
from emkit.crowd.majority import MajorityVote

__all__ = [
    "GLAD",
    "MACE",
    "AnnotatorParams",
    "Answers",
    "ContinuousAnnotators",
    "DawidSkene",
    "DawidSkeneParams",
    "GLADParams",
    "MACEParams",
    "MajorityVote",
    "OneCoinDawidSkene",
    "OneCoinParams",
    "course_demo",
    "read_answers",
    "simulate_scores",
]
