"""Stepwise (online) EM for PLSA: each batch's documents are folded in, the topics averaged.

PLSA's document weights ``theta`` are parameters of the training documents; a batch of new
documents gets its own by folding in (EM over theta with the topics fixed, as ``transform``),
and only the topic-word statistics, sums over documents, enter the running average.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from emkit import ConvergenceWarning, InMemoryExecutor
from emkit.engine import StepContext, run_em
from emkit.models import PLSA
from emkit.online import StepSize, run_online
from tests.test_online import _Frozen

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)

V, K = 30, 3
#: three topics on overlapping thirds of the vocabulary
TOPICS = np.stack([np.roll(np.r_[np.full(12, 1.0), np.zeros(V - 12)], 10 * k) for k in range(K)])
TOPICS = (TOPICS + 0.01) / (TOPICS + 0.01).sum(axis=1, keepdims=True)


def _documents(n: int, seed: int, length: int = 80) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    theta = rng.dirichlet(np.full(K, 0.3), size=n)
    return sp.csr_matrix(np.stack([rng.multinomial(length, t @ TOPICS) for t in theta]))


def _start(est: PLSA, X: sp.csr_matrix) -> tuple[object, object]:
    batch = InMemoryExecutor().prepare(est, X, None, {}).data
    return batch, est.init_params(batch, np.random.RandomState(0))


def test_rho_one_over_t_one_pass_is_batch_em_first_iteration() -> None:
    """Without folding in (``fold_in_max_iter=0``) every document keeps fit's uniform start, so
    one pass with rho = 1/t over equal batches gives batch EM's first topic-word statistics and
    its first M-step's topics."""
    X = _documents(240, seed=0)
    est = PLSA(K, fold_in_max_iter=0, random_state=0)
    batch, params0 = _start(est, X)
    frozen = _Frozen(est)
    run_online(
        frozen,
        batch,
        params0,
        executor=InMemoryExecutor(chunk_rows=40),
        step_size=StepSize(kappa=1.0, t0=0.0),
        shuffle=False,
    )
    assert len(frozen.seen) == 6
    # the six batches weigh the same (one per document), not the same number of words
    whole = est.e_step(batch, params0, StepContext())
    np.testing.assert_allclose(frozen.seen[-1]["topic_word"], whole["topic_word"], rtol=1e-12)
    assert frozen.seen[-1].loglik == pytest.approx(whole.loglik, rel=1e-12)
    first = run_em(est, batch, params0, max_iter=1, tol=0.0)
    online = est.m_step(frozen.seen[-1], params0, StepContext())
    np.testing.assert_allclose(online.topic_word, first.params.topic_word, rtol=1e-10)


def _matched_error(topic_word: np.ndarray) -> float:
    order = [int(np.argmax(topic_word @ t)) for t in TOPICS]
    assert sorted(order) == list(range(K))
    return float(np.max(np.abs(topic_word[order] - TOPICS)))


def test_a_stream_of_documents_recovers_the_topics() -> None:
    """60 batches of 100 new documents: the topics come within 0.01 of the truth, as close as
    a batch fit on the same 6000 documents (the words of a topic have probability ~0.083)."""
    est = PLSA(K, alpha=0.0, random_state=0)
    batches = [_documents(100, seed=s) for s in range(60)]
    for X in batches:
        est.partial_fit(X)
    online_error = _matched_error(est.topic_word_)
    batch = PLSA(K, alpha=0.0, random_state=0, max_iter=300).fit(sp.vstack(batches).tocsr())
    assert online_error < 0.01
    assert online_error < 2.0 * _matched_error(batch.topic_word_) + 0.002
    # the document weights are the last batch's, folded in
    assert est.doc_topic_.shape == (100, K)
    np.testing.assert_allclose(est.doc_topic_.sum(axis=1), 1.0)
    assert est.n_iter_ == 60


def test_partial_fit_after_fit_continues_from_its_topics() -> None:
    X = _documents(1000, seed=1)
    est = PLSA(K, random_state=0).fit(X)
    fitted = est.topic_word_.copy()
    est.partial_fit(_documents(50, seed=2))  # one small batch next to a fit on 20 times more
    assert np.max(np.abs(est.topic_word_ - fitted)) < 0.01
    assert est.online_state_.n_updates == 1


def test_partial_fit_warns_nothing_on_good_data() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = PLSA(K, random_state=0)
        for seed in range(5):
            est.partial_fit(_documents(100, seed=seed))
