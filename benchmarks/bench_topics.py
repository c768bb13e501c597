"""Topic models: emkit against scikit-learn (speed) and gensim (topic quality), side by side.

Sections (``--section``):

speed
    A synthetic Zipfian corpus (default 100,000 documents x 50,000 words). PLSA (EM, one
    sampled product per iteration; and the alternating ECM update, two) against
    ``sklearn.decomposition.NMF(beta_loss='kullback-leibler', solver='mu')`` from the same
    start: seconds per iteration, and the time PLSA needs to reach the KL objective NMF
    reached after ``--iters`` iterations (PLSA's objective mapped to NMF's by the exact
    identity D = C - log L). The last line is the issue's figure: NMF's time over PLSA's time
    at equal objective, target >= 3x.
lda
    Held-out document-completion perplexity (emkit.text.metrics) of scikit-learn's
    ``LatentDirichletAllocation`` (batch, ``--lda-iters`` passes) on a smaller Zipfian corpus,
    and the time PLSA and the mixture of unigrams take to reach it (if they never do: the
    best perplexity they reach, and when).
quality
    reuters_lda and lee from ../shared/data/topics: top words and UMass / NPMI coherence of
    MultinomialMixture, PLSA and gensim's ``LdaModel`` on the same vocabulary and K
    (needs ``pip install emkit[bench]`` for gensim).

Run: ``python benchmarks/bench_topics.py --section all``. Timings are wall-clock on whatever
machine runs it; compare the printed ratios, which come from one run.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from emkit import ConvergenceWarning
from emkit.models import PLSA, MultinomialMixture
from emkit.models.plsa import plsa_kl_divergence_offset
from emkit.text import (
    coherence_npmi,
    coherence_umass,
    held_out_perplexity,
    load_corpus,
    read_ldac,
    top_word_ids,
    top_words,
)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "topics"


def zipf_corpus(
    n_docs: int, n_words: int, n_topics: int = 20, mean_length: int = 80, seed: int = 0
) -> sp.csr_matrix:
    """Documents mixing 2 of ``n_topics`` topics, each Zipf(1.1) over a permuted vocabulary."""
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, n_words + 1, dtype=np.float64)
    zipf = ranks**-1.1
    zipf /= zipf.sum()
    perms = np.stack([rng.permutation(n_words) for _ in range(n_topics)])
    cdf = np.cumsum(zipf)
    lengths = rng.poisson(mean_length, size=n_docs) + 1
    doc = np.repeat(np.arange(n_docs), lengths)
    pair = rng.integers(0, n_topics, size=(n_docs, 2))
    which = rng.random(doc.shape[0]) < 0.7
    topic = np.where(which, pair[doc, 0], pair[doc, 1])
    rank = np.minimum(np.searchsorted(cdf, rng.random(doc.shape[0])), n_words - 1)
    word = perms[topic, rank]
    X = sp.csr_matrix(
        (np.ones(doc.shape[0]), (doc, word)), shape=(n_docs, n_words), dtype=np.float64
    )
    X.sum_duplicates()
    return X


def kl_divergence(X: sp.csr_matrix, W: np.ndarray, H: np.ndarray) -> float:
    """Generalised KL divergence D(X || WH) on the nonzeros (plus sum WH), chunked."""
    total = 0.0
    for start in range(0, X.shape[0], 20000):
        block = X[start : start + 20000]
        rows = np.repeat(np.arange(block.shape[0]), np.diff(block.indptr))
        wh = np.einsum("ik,ki->i", W[start : start + 20000][rows], H[:, block.indices])
        total += float(np.sum(block.data * np.log(block.data / wh)))
    return total - float(X.sum()) + float(W.sum(axis=0) @ H.sum(axis=1))


def section_speed(args: argparse.Namespace) -> None:
    from sklearn.decomposition import NMF

    print(f"\n== speed: PLSA vs sklearn NMF(KL, mu), {args.docs} x {args.words}, K={args.k} ==")
    t0 = time.perf_counter()
    X = zipf_corpus(args.docs, args.words)
    print(f"corpus: nnz={X.nnz:,} tokens={int(X.sum()):,} ({time.perf_counter() - t0:.1f} s)")
    rng = np.random.default_rng(1)
    beta0 = rng.dirichlet(np.ones(args.words), size=args.k)
    theta0 = np.full((args.docs, args.k), 1.0 / args.k)
    n = np.asarray(X.sum(axis=1)).ravel()
    C = plsa_kl_divergence_offset(X)

    nmf = NMF(
        args.k,
        beta_loss="kullback-leibler",
        solver="mu",
        init="custom",
        max_iter=args.iters,
        tol=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        W = nmf.fit_transform(X, W=n[:, None] * theta0, H=beta0.copy())
        t_nmf = time.perf_counter() - t0
    d_nmf = kl_divergence(X, W, nmf.components_)
    print(
        f"sklearn NMF : {args.iters} iterations {t_nmf:8.2f} s "
        f"({t_nmf / args.iters:.3f} s/iter), D = {d_nmf:.6e}"
    )

    ratios = {}
    for update in args.updates.split(","):
        ratios[update] = _time_plsa(args, X, beta0, theta0, C, update, t_nmf, d_nmf)
    best = max(ratios, key=lambda u: ratios[u])
    verdict = "met" if ratios[best] >= 3.0 else "not met"
    print(
        f"equal-objective ratio (NMF time for {args.iters} iterations / PLSA time to the same "
        f"KL objective): {ratios[best]:.2f}x with update='{best}' -> target >= 3x: {verdict}"
    )


def _time_plsa(
    args: argparse.Namespace,
    X: sp.csr_matrix,
    beta0: np.ndarray,
    theta0: np.ndarray,
    C: float,
    update: str,
    t_nmf: float,
    d_nmf: float,
) -> float:
    """Fit PLSA from NMF's start; print its time per iteration and to NMF's objective."""
    times: list[float] = []
    values: list[float] = []
    start = time.perf_counter()

    def record(info: Any) -> None:
        times.append(time.perf_counter() - start)
        values.append(C - info.log_likelihood)

    # up to 3x the iterations, to time PLSA to NMF's objective as well as per iteration
    plsa = PLSA(
        args.k,
        alpha=0.0,
        update=update,
        topic_word_init=beta0,
        doc_topic_init=theta0,
        max_iter=3 * args.iters,
        tol=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        plsa.fit(X, callbacks=[record])
        t_plsa = time.perf_counter() - start
    # times[i]: after i iterations, counting the starting point's evaluation (conservative)
    per_iter = times[args.iters] / args.iters
    d_plsa = values[args.iters]
    label = f"emkit PLSA ({update})"
    print(
        f"{label:23s}: {args.iters} iterations {times[args.iters]:8.2f} s "
        f"({per_iter:.3f} s/iter, objective every iteration), D = {d_plsa:.6e}"
    )
    print(f"  ratio per iteration (NMF / PLSA): {t_nmf / args.iters / per_iter:.2f}x")
    reached = [(i, t) for i, (t, v) in enumerate(zip(times, values, strict=True)) if v <= d_nmf]
    if reached:
        it, t = reached[0]
        print(
            f"  reaches NMF's objective after {args.iters} iterations in {it} iterations, "
            f"{t:.2f} s vs NMF {t_nmf:.2f} s -> {t_nmf / t:.2f}x at equal objective"
        )
        return t_nmf / t
    print(
        f"  did not reach NMF's objective in {len(values) - 1} iterations "
        f"(relative gap {(values[-1] - d_nmf) / d_nmf:.2e}, {t_plsa:.2f} s)"
    )
    return 0.0


def section_lda(args: argparse.Namespace) -> None:
    from sklearn.decomposition import LatentDirichletAllocation

    n_docs = args.lda_docs
    print(
        f"\n== held-out perplexity: sklearn LDA vs emkit, {n_docs} x {args.lda_words}, "
        f"K={args.k} =="
    )
    X = zipf_corpus(n_docs, args.lda_words, seed=2)
    split = int(0.9 * n_docs)
    train, test = X[:split], X[split:]
    t0 = time.perf_counter()
    lda = LatentDirichletAllocation(
        args.k, learning_method="batch", max_iter=args.lda_iters, random_state=0
    ).fit(train)
    t_lda = time.perf_counter() - t0
    p_lda = held_out_perplexity(lda, test)
    print(
        f"sklearn LDA (batch, {args.lda_iters} passes): {t_lda:.2f} s, "
        f"held-out perplexity {p_lda:.1f}"
    )
    summary = []
    for name, make in [
        ("PLSA (alpha=0.01)", lambda it: PLSA(args.k, random_state=0, max_iter=it, tol=0)),
        # Laplace smoothing of the topics (the textbook add-one), the mixture's default
        (
            "PLSA (alpha=1)",
            lambda it: PLSA(args.k, alpha=1.0, random_state=0, max_iter=it, tol=0),
        ),
        (
            "MultinomialMixture",
            lambda it: MultinomialMixture(args.k, random_state=0, n_init=1, max_iter=it, tol=0),
        ),
    ]:
        best: tuple[float, int, float] | None = None  # (perplexity, iterations, seconds)
        reached: tuple[int, float] | None = None
        for iters in (5, 10, 20, 40, 80):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t0 = time.perf_counter()
                model = make(iters).fit(train)
                elapsed = time.perf_counter() - t0
                # folding-in runs with the model's tol=0 too: its warning is expected
                perplexity = held_out_perplexity(model, test)
            print(
                f"  {name:26s} {iters:3d} iterations {elapsed:7.2f} s perplexity {perplexity:.1f}"
            )
            if best is None or perplexity < best[0]:
                best = (perplexity, iters, elapsed)
            if perplexity <= p_lda:
                reached = (iters, elapsed)
                break
        assert best is not None
        if reached is not None:
            line = (
                f"{name}: reaches LDA's held-out perplexity {p_lda:.1f} in {reached[0]} "
                f"iterations, {reached[1]:.2f} s (LDA's fit {t_lda:.2f} s: "
                f"{t_lda / reached[1]:.2f}x)"
            )
        else:
            line = (
                f"{name}: never reaches LDA's held-out perplexity {p_lda:.1f}; best reached "
                f"{best[0]:.1f} after {best[1]} iterations ({best[2]:.2f} s; LDA's fit "
                f"{t_lda:.2f} s)"
            )
        print("  -> " + line)
        summary.append(line)
    print("\ntime to reach sklearn LatentDirichletAllocation's held-out perplexity:")
    for line in summary:
        print("  " + line)


def _gensim_lda(X: sp.csr_matrix, vocabulary: list[str], k: int, passes: int) -> np.ndarray:
    from gensim.matutils import Sparse2Corpus
    from gensim.models import LdaModel

    corpus = Sparse2Corpus(X, documents_columns=False)
    id2word = dict(enumerate(vocabulary))
    lda = LdaModel(
        corpus,
        num_topics=k,
        id2word=id2word,
        passes=passes,
        random_state=0,
        alpha="auto",
        eta="auto",
        iterations=100,
    )
    return np.asarray(lda.get_topics())


def section_quality(args: argparse.Namespace) -> None:
    if not DATA.exists():
        print(f"\n== quality: skipped, {DATA} not found ==")
        return
    corpora = {
        "reuters_lda": read_ldac(
            DATA / "reuters_lda" / "reuters.ldac", DATA / "reuters_lda" / "reuters.tokens"
        ),
        "lee": load_corpus(DATA / "lee" / "lee_background.cor", stop_words="english", min_df=2),
    }
    for name, corpus in corpora.items():
        k = args.k_quality
        print(
            f"\n== quality: {name} ({corpus.X.shape[0]} docs, {corpus.X.shape[1]} words), "
            f"K={k}, top {args.top} words =="
        )
        topic_words: dict[str, np.ndarray] = {}
        t0 = time.perf_counter()
        topic_words["MultinomialMixture"] = (
            MultinomialMixture(k, random_state=0).fit(corpus.X).topic_word_
        )
        topic_words["PLSA"] = (
            PLSA(k, random_state=0, init="kmeans", max_iter=300).fit(corpus.X).topic_word_
        )
        print(f"emkit fits: {time.perf_counter() - t0:.1f} s")
        try:
            t0 = time.perf_counter()
            topic_words["gensim LdaModel"] = _gensim_lda(corpus.X, corpus.vocabulary, k, 20)
            print(f"gensim LdaModel (20 passes): {time.perf_counter() - t0:.1f} s")
        except ImportError:
            print("gensim not installed (pip install 'emkit[bench]'): no LDA reference")
        results = {}
        for model, beta in topic_words.items():
            ids = top_word_ids(beta, args.top)
            umass = float(coherence_umass(ids, corpus.X))
            npmi_doc = float(coherence_npmi(ids, corpus.X, window=None))
            npmi_win = (
                float(coherence_npmi(ids, tokens=corpus.tokens, vocabulary=corpus.vocabulary))
                if corpus.tokens is not None
                else float("nan")
            )
            results[model] = (umass, npmi_doc, npmi_win)
            print(
                f"{model:20s} UMass {umass:7.3f}  NPMI(doc) {npmi_doc:6.3f}  "
                f"NPMI(window 10) {npmi_win:6.3f}"
            )
            for t, words in enumerate(top_words(beta, corpus.vocabulary, 8)):
                print(f"    {t:2d}: {' '.join(words)}")
        if "gensim LdaModel" in results:
            ref = results["gensim LdaModel"]
            for model in ("MultinomialMixture", "PLSA"):
                ours = results[model]
                print(
                    f"{model} / gensim LDA: UMass {ours[0] / ref[0]:.3f} "
                    f"(<1 is better for UMass), NPMI(doc) {ours[1] / ref[1]:.3f}"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", default="all", choices=["all", "speed", "lda", "quality"])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=50_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument(
        "--updates", default="em,alternating", help="PLSA update rules to time, comma-separated"
    )
    parser.add_argument("--lda-docs", type=int, default=20_000)
    parser.add_argument("--lda-words", type=int, default=10_000)
    parser.add_argument("--lda-iters", type=int, default=10)
    parser.add_argument("--k-quality", type=int, default=10)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    if args.section in ("all", "speed"):
        section_speed(args)
    if args.section in ("all", "lda"):
        section_lda(args)
    if args.section in ("all", "quality"):
        section_quality(args)


if __name__ == "__main__":
    main()
