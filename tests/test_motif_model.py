"""MotifEM (OOPS / ZOOPS) against brute-force references, planted motifs, and bad input."""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any

import numpy as np
import pytest

from emkit import Batch, ConvergenceWarning, DataError, ParameterError, StepContext, run_em
from emkit.motif import MotifEM, MotifParams, decode, encode_sequences, find_motifs
from emkit.motif.meme import coverage, score_pvalues, site_scores
from emkit.motif.output import to_json, to_meme
from emkit.motif.simulate import conserved_pwm, planted_motif_sequences

COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}
IDX = {c: k for k, c in enumerate("ACGT")}


# -- brute-force references (loops over everything, straight from the model's definition) -----
def _position_log_bg(seq: str, bg0: np.ndarray, table: np.ndarray, order: int) -> list[float]:
    out = []
    for t, x in enumerate(seq):
        if x == "N":
            out.append(0.0)
            continue
        context = seq[t - order : t] if t >= order else None
        if order > 0 and context is not None and "N" not in context:
            code = 0
            for letter in context:  # oldest letter is the most significant digit
                code = code * 4 + IDX[letter]
            out.append(float(np.log(table[code, IDX[x]])))
        else:
            out.append(float(np.log(bg0[IDX[x]])))
    return out


def _brute_log_joint(
    seqs: list[str], est: MotifEM, params: MotifParams, erase: np.ndarray
) -> np.ndarray:
    w = est.width
    S = est.n_strands
    J = max(map(len, seqs)) - w + 1
    K = S * J + int(est.zoops)
    out = np.full((len(seqs), K), -np.inf)
    gamma = float(params.gamma)
    for i, seq in enumerate(seqs):
        bg = _position_log_bg(seq, params.background0, params.background, est.background_order)
        total = sum(bg)
        m = len(seq) - w + 1
        for s, j in itertools.product(range(S), range(m)):
            score = 0.0
            for c in range(w):
                x = seq[j + c]
                if x == "N":
                    continue
                if s == 0:
                    lp = np.log(params.pwm[c, IDX[x]])
                else:
                    lp = np.log(params.pwm[w - 1 - c, IDX[COMP[x]]])
                score += erase[i, j + c] * (lp - bg[j + c])
            out[i, s * J + j] = np.log(gamma / (S * m)) + total + score
        if est.zoops:
            out[i, -1] = np.log1p(-gamma) + total
    return out


def _brute_counts(
    seqs: list[str], w: int, S: int, resp: np.ndarray, erase: np.ndarray
) -> np.ndarray:
    J = max(map(len, seqs)) - w + 1
    counts = np.zeros((w, 4))
    for i, seq in enumerate(seqs):
        for s, j in itertools.product(range(S), range(len(seq) - w + 1)):
            for c in range(w):
                x = seq[j + c]
                if x == "N":
                    continue
                if s == 0:
                    counts[c, IDX[x]] += resp[i, s * J + j] * erase[i, j + c]
                else:
                    counts[w - 1 - c, IDX[COMP[x]]] += resp[i, s * J + j] * erase[i, j + c]
    return counts


def _random_setup(
    rng: np.random.Generator, **kw: Any
) -> tuple[list[str], MotifEM, Batch, MotifParams, np.ndarray]:
    w = kw.pop("width", 4)
    seqs = [
        "".join(rng.choice(list("ACGTN"), p=[0.23, 0.23, 0.23, 0.23, 0.08], size=int(n)))
        for n in rng.integers(w, w + 9, size=6)
    ]
    est = MotifEM(w, **kw)
    codes = encode_sequences(seqs)
    erase = rng.uniform(0.2, 1.0, size=codes.shape)
    arrays = est._validate_data(codes, reset=True, erase=erase)
    batch = Batch(arrays, np.ones(len(seqs)))
    order = est.background_order
    table = rng.dirichlet(np.ones(4), size=4**order)
    params = MotifParams(
        pwm=rng.dirichlet(np.ones(4), size=w),
        gamma=np.asarray(0.3 if est.zoops else 1.0),
        background=table,
        background0=rng.dirichlet(np.ones(4)),
    )
    return seqs, est, batch, params, erase


SETTINGS = [
    {"model": "oops"},
    {"model": "zoops"},
    {"model": "oops", "revcomp": True},
    {"model": "zoops", "revcomp": True, "background_order": 1},
    {"model": "zoops", "background_order": 2, "width": 3},
]


@pytest.mark.parametrize("kw", SETTINGS)
@pytest.mark.parametrize("seed", range(3))
def test_log_joint_matches_brute_force(kw: dict[str, Any], seed: int) -> None:
    seqs, est, batch, params, erase = _random_setup(np.random.default_rng(seed), **kw)
    np.testing.assert_allclose(
        est.log_joint(batch, params), _brute_log_joint(seqs, est, params, erase), rtol=1e-12
    )


@pytest.mark.parametrize("kw", SETTINGS)
def test_expected_counts_match_brute_force(kw: dict[str, Any]) -> None:
    seqs, est, batch, params, erase = _random_setup(np.random.default_rng(7), **kw)
    resp, _ = StepContext().posterior(est.log_joint(batch, params))
    stats = est.accumulate(batch, resp, params)
    expected = _brute_counts(seqs, est.width, est.n_strands, resp, erase)
    np.testing.assert_allclose(stats["counts"], expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(float(stats["row_mass"]), len(seqs))
    site = resp[:, : resp.shape[1] - int(est.zoops)].sum()
    np.testing.assert_allclose(float(stats["site_mass"]), site)


def test_background_estimation_add_one() -> None:
    est = MotifEM(2, background_order=1)
    codes = encode_sequences(["AACG", "ANT"])
    batch = Batch(est._validate_data(codes, reset=True), np.array([1.0, 2.0]))
    table, b0 = est._fit_background(batch, 4)
    # letters A,A,C,G (weight 1) and A,T (weight 2): A 4, C 1, G 1, T 2 + 1 each
    np.testing.assert_allclose(b0, np.array([5, 2, 2, 3]) / 12)
    # transitions AA, AC, CG (weight 1); N breaks A->N->T
    expected = np.ones((4, 4))
    expected[0, 0] += 1
    expected[0, 1] += 1
    expected[1, 2] += 1
    np.testing.assert_allclose(table, expected / expected.sum(axis=1, keepdims=True))


def test_offsets_past_the_end_have_zero_posterior() -> None:
    seqs = ["ACGTACGTAC", "ACGTA"]
    est = MotifEM(4, model="oops", random_state=0, n_starts=20).fit(seqs)
    proba = est.predict_proba(seqs)
    assert proba.shape == (2, 7)
    np.testing.assert_array_equal(proba[1, 2:], 0.0)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_map_m_step_and_objective() -> None:
    seqs, est, batch, params, _ = _random_setup(np.random.default_rng(3), model="zoops")
    stats = est.e_step(batch, params, StepContext())
    new = est.m_step(stats, params, StepContext())
    alpha = est.pseudocount * params.background0
    expected = (stats["counts"] + alpha) / (
        stats["counts"].sum(axis=1, keepdims=True) + alpha.sum()
    )
    np.testing.assert_allclose(new.pwm, expected)
    np.testing.assert_allclose(new.gamma, float(stats["site_mass"]) / len(seqs))
    value = est.objective(stats, params, StepContext())
    assert value == pytest.approx(stats.loglik + np.sum(alpha * np.log(params.pwm)))


# -- significance -------------------------------------------------------------------------
def test_score_pvalues_match_exhaustive_enumeration() -> None:
    rng = np.random.default_rng(0)
    pwm = rng.dirichlet(np.ones(4), size=3)
    bg = rng.dirichlet(np.full(4, 5.0))
    kmers = np.array(list(itertools.product(range(4), repeat=3)))
    scores = site_scores(pwm, bg, kmers)
    prob = np.prod(bg[kmers], axis=1)
    distinct = np.unique(np.round(scores, 9))
    gaps = np.diff(distinct)
    mids = (distinct[:-1] + distinct[1:])[gaps > 1e-2] / 2
    exact = np.array([prob[scores >= s].sum() for s in mids])
    np.testing.assert_allclose(score_pvalues(pwm, bg, mids), exact, atol=1e-12)
    assert score_pvalues(pwm, bg, np.array([scores.min() - 1]))[0] == pytest.approx(1.0)


def test_coverage_of_site_posteriors() -> None:
    post = np.zeros((1, 2, 4))  # L = 6, w = 3
    post[0, 0, 1] = 0.5
    post[0, 1, 3] = 0.25
    np.testing.assert_allclose(coverage(post, 3, 6), [[0, 0.5, 0.5, 0.75, 0.25, 0.25]])


# -- planted motifs -------------------------------------------------------------------------
CONSENSUS = "TTGACGCATGAC"


def _recovery(model: str, conservation: float, seed: int, **kw: Any) -> tuple[float, float, Any]:
    rev = kw.pop("reverse_fraction", 0.0)
    data = planted_motif_sequences(
        30,
        100,
        conserved_pwm(CONSENSUS, conservation),
        site_probability=kw.pop("site_probability", 1.0),
        reverse_fraction=rev,
        random_state=seed,
    )
    motif = find_motifs(
        data.sequences,
        len(CONSENSUS),
        model=model,
        revcomp=rev > 0,
        random_state=seed,
        n_starts=300,  # of 2670 substrings: keeps the test fast
    )[0]
    found = {s.index: s for s in motif.sites}
    planted = np.flatnonzero(data.starts >= 0)
    exact = np.mean([i in found and found[i].start == data.starts[i] for i in planted])
    empty = np.flatnonzero(data.starts < 0)
    false_pos = np.mean([i in found for i in empty]) if empty.size else 0.0
    return float(exact), float(false_pos), (motif, data)


@pytest.mark.parametrize(("conservation", "minimum"), [(0.95, 0.97), (0.85, 0.85), (0.75, 0.65)])
def test_oops_recovers_planted_sites(conservation: float, minimum: float) -> None:
    rates = [_recovery("oops", conservation, seed)[0] for seed in range(3)]
    assert np.mean(rates) >= minimum, rates


def test_oops_finds_the_planted_consensus() -> None:
    _, _, (motif, _data) = _recovery("oops", 0.9, 0)
    assert motif.consensus == CONSENSUS
    assert len(motif.sites) == 30
    assert all(s.strand == "+" for s in motif.sites)
    np.testing.assert_allclose(motif.pwm.sum(axis=1), 1.0)
    assert motif.log10_evalue < -20


def test_zoops_recovers_sites_and_leaves_empty_sequences() -> None:
    rates = [_recovery("zoops", 0.95, seed, site_probability=0.7) for seed in range(3)]
    exact = np.mean([r[0] for r in rates])
    false_pos = np.mean([r[1] for r in rates])
    assert exact >= 0.9 and false_pos <= 0.2, rates
    motif, data = rates[0][2]
    assert motif.gamma == pytest.approx(np.mean(data.starts >= 0), abs=0.15)


def test_both_strands_recover_sites_and_strands() -> None:
    for seed in range(2):
        exact, _, (motif, data) = _recovery("oops", 0.9, seed, reverse_fraction=0.5)
        assert exact >= 0.85
        # the motif may be learnt as either strand's reading: strands agree up to one flip
        flip = 1 if motif.consensus == CONSENSUS else -1
        if flip == -1:
            assert (
                motif.consensus
                == decode([[3 - k for k in encode_sequences([CONSENSUS])[0][::-1]]])[0]
            )
        agree = np.mean(
            [
                (1 if s.strand == "+" else -1) == flip * data.strands[s.index]
                for s in motif.sites
                if s.start == data.starts[s.index]
            ]
        )
        assert agree == 1.0


def test_hard_em_recovers_a_clear_motif() -> None:
    data = planted_motif_sequences(20, 80, conserved_pwm(CONSENSUS, 0.95), random_state=4)
    est = MotifEM(len(CONSENSUS), model="oops", hard=True, random_state=4).fit(data.sequences)
    site, _ = est.site_posteriors(data.sequences)
    assert set(np.unique(site)) <= {0.0, 1.0} or np.allclose(site.sum(axis=(1, 2)), 1.0)
    assert np.mean(site[:, 0, :].argmax(axis=1) == data.starts) >= 0.95
    assert est.converged_


def test_second_motif_is_found_after_down_weighting_the_first() -> None:
    other = "GCCTAGGAT"
    a = planted_motif_sequences(20, 60, conserved_pwm(CONSENSUS, 0.95), random_state=1)
    b = planted_motif_sequences(20, 60, conserved_pwm(other, 0.95), random_state=2)
    seqs = [x + y for x, y in zip(a.sequences, b.sequences, strict=True)]
    motifs = find_motifs(seqs, 9, nmotifs=2, model="oops", random_state=0)
    cons = [m.consensus for m in motifs]
    assert any(c in CONSENSUS for c in cons), cons
    assert other in cons, cons
    second = motifs[cons.index(other)]
    assert np.mean([s.start - 60 == b.starts[s.index] for s in second.sites]) >= 0.9


def test_protein_motif() -> None:
    rng = np.random.RandomState(0)
    data = planted_motif_sequences(
        12, 50, conserved_pwm("WHKMPC", 0.9, "protein"), alphabet="protein", random_state=rng
    )
    motif = find_motifs(data.sequences, 6, alphabet="protein", model="oops", random_state=0)[0]
    assert motif.consensus == "WHKMPC"
    assert len(motif.alphabet) == 20


def test_wildcards_are_marginalised() -> None:
    data = planted_motif_sequences(20, 60, conserved_pwm(CONSENSUS, 0.95), random_state=5)
    masked = [s[:5] + "NNNN" + s[9:] for s in data.sequences]
    motif = find_motifs(masked, len(CONSENSUS), model="oops", random_state=0)[0]
    assert motif.consensus == CONSENSUS


def test_pwm_init_and_warm_start() -> None:
    data = planted_motif_sequences(15, 50, conserved_pwm("ACGTAC", 0.95), random_state=0)
    pwm = conserved_pwm("ACGTAC", 0.6)
    est = MotifEM(6, model="oops", pwm_init=pwm, max_iter=50).fit(data.sequences)
    assert "".join("ACGT"[k] for k in est.pwm_.argmax(axis=1)) == "ACGTAC"
    before = est.log_likelihood_
    est.set_params(warm_start=True, pwm_init=None).fit(data.sequences)
    assert est.log_likelihood_history_[0] == pytest.approx(before, rel=1e-9)


# -- output -----------------------------------------------------------------------------
def test_meme_minimal_format_and_json() -> None:
    data = planted_motif_sequences(15, 50, conserved_pwm("ACGTAC", 0.95), random_state=0)
    motifs = find_motifs(data.sequences, 6, nmotifs=2, model="zoops", random_state=0)
    text = to_meme(motifs)
    assert text.startswith("MEME version 4\n\nALPHABET= ACGT\n\nstrands: +\n")
    assert "Background letter frequencies\nA 0." in text
    blocks = re.findall(
        r"MOTIF (\d+) (\w+)\nletter-probability matrix: alength= 4 w= 6 nsites= (\d+) "
        r"E= ([0-9.]+e[+-]\d+)\n((?: .+\n){6})",
        text,
    )
    assert [b[0] for b in blocks] == ["1", "2"]
    rows = np.array([[float(v) for v in line.split()] for line in blocks[0][4].splitlines()])
    np.testing.assert_allclose(rows, motifs[0].pwm, atol=1e-6)
    assert float(blocks[0][3]) == pytest.approx(motifs[0].evalue, rel=0.06)
    payload = to_json(motifs)
    site = payload["motifs"][0]["sites"][0]
    assert set(site) == {"sequence", "index", "start", "strand", "posterior", "site", "pvalue"}
    assert site["start"] == motifs[0].sites[0].start + 1  # 1-based in files


def test_logo_draws_one_stack_per_column() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emkit.motif.logo import plot_logo

    pwm = conserved_pwm("ACGTAC", 0.9)
    fig = plot_logo(pwm, title="t")
    ax = fig.axes[0]
    assert len(ax.patches) == 6 * 4
    assert ax.get_ylim() == (0.0, 2.0)
    heights = sorted(p.get_path().get_extents().height for p in ax.patches)
    info = 2 + 0.9 * np.log2(0.9) + 0.1 * np.log2(0.1 / 3)
    assert heights[-1] == pytest.approx(0.9 * info, rel=1e-6)
    plt.close(fig)


# -- bad input ----------------------------------------------------------------------------
def test_width_below_two_is_rejected() -> None:
    with pytest.raises(ParameterError, match="'width' parameter of MotifEM"):
        MotifEM(1).fit(["ACGT", "ACGT"])
    with pytest.raises(ParameterError, match="width must be an integer >= 2"):
        find_motifs(["ACGT"], 1)


def test_sequence_shorter_than_width_is_named() -> None:
    with pytest.raises(
        DataError, match=r"sequence 'b' has length 3, shorter than the motif width 4"
    ):
        find_motifs(["ACGTA", "ACG"], 4, names=["a", "b"])
    with pytest.raises(DataError, match="sequence #1 has length 3"):
        MotifEM(4).fit(["ACGTA", "ACG"])


def test_unknown_letters_and_bad_codes() -> None:
    with pytest.raises(DataError, match="unknown letter 'Z'"):
        find_motifs(["ACGTZ"], 3)
    with pytest.raises(DataError, match=r"codes must lie in \[-1, 4\]"):
        MotifEM(2).fit(np.array([[0, 1, 7]]))
    with pytest.raises(DataError, match="padding"):
        MotifEM(2).fit(np.array([[0, -1, 2]]))
    with pytest.raises(DataError, match="erase must have shape"):
        MotifEM(2).fit(["ACGT"], erase=np.ones((1, 3)))


def test_revcomp_needs_dna_and_pwm_init_needs_the_right_shape() -> None:
    with pytest.raises(ParameterError, match="DNA only"):
        MotifEM(3, revcomp=True, alphabet="protein").fit(["MKVW"])
    with pytest.raises(ParameterError, match="pwm_init"):
        MotifEM(3, pwm_init=np.full((2, 4), 0.25)).fit(["ACGT"])
    with pytest.raises(ParameterError, match="nmotifs"):
        find_motifs(["ACGT"], 2, nmotifs=0)
    with pytest.raises(ParameterError, match="'model' parameter"):
        MotifEM(3, model="tcm").fit(["ACGT"])


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("kw", SETTINGS)
def test_down_weighted_objective_never_decreases(kw: dict[str, Any], hard: bool) -> None:
    rng = np.random.default_rng(11)
    data = planted_motif_sequences(12, 30, conserved_pwm("ACGTAC", 0.8), random_state=11)
    codes = encode_sequences(data.sequences)
    erase = rng.uniform(0.0, 1.0, size=codes.shape)
    kw = {**kw, "width": kw.get("width", 5)}
    est = MotifEM(hard=hard, random_state=0, max_iter=30, tol=0.0, n_starts=20, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(codes, erase=erase)
    history = est.log_likelihood_history_
    assert np.all(np.diff(history) >= -1e-9 * np.abs(history[:-1]))


@pytest.mark.parametrize("kw", SETTINGS)
def test_start_ranking_equals_one_engine_iteration(kw: dict[str, Any]) -> None:
    # soft EM only: starting matrices take two values, so hard EM's arg-max meets exact ties
    # that the two summation orders break differently
    hard = False
    _, est, batch, params, _ = _random_setup(np.random.default_rng(5), **kw)
    batch = Batch(batch.arrays, np.random.default_rng(6).uniform(0.5, 2.0, batch.n_rows))
    pwms = est._start_pwms(est._candidate_substrings(batch, np.random.RandomState(0)), 4)
    gamma = float(params.gamma)
    fast = est._one_step_scores(batch, params, pwms, gamma)
    reference = [
        run_em(
            est,
            batch,
            MotifParams(p, params.gamma, params.background, params.background0),
            max_iter=1,
            tol=0.0,
            hard=hard,
            warn_convergence=False,
        ).log_likelihood
        for p in pwms
    ]
    np.testing.assert_allclose(fast, reference, rtol=1e-12)
