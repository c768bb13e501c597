"""scikit-learn's ``check_estimator`` on emkit's estimators.

emkit's estimators implement scikit-learn's estimator API (``emkit._sklearn_api``) rather than
inherit from ``sklearn.base.BaseEstimator``: inheriting would import scikit-learn, about a second,
with every emkit model. ``check_estimator`` warns about the missing base class once and then runs
every check; passing them all is the compatibility that matters, so that one warning is ignored.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

from sklearn.exceptions import SkipTestWarning
from sklearn.utils.estimator_checks import check_estimator

from emkit.exceptions import ConvergenceWarning


def run_check_estimator(
    estimator: object,
    expected_failed_checks: Mapping[str, str],
    ignore: tuple[type[Warning], ...] = (),
) -> None:
    """``check_estimator(estimator)``, tolerating expected failures, skips, ConvergenceWarning."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"Estimator \w+ does not inherit from `sklearn.base.BaseEstimator`"
        )
        for category in (SkipTestWarning, ConvergenceWarning, *ignore):
            warnings.simplefilter("ignore", category)
        check_estimator(estimator, expected_failed_checks=dict(expected_failed_checks))
