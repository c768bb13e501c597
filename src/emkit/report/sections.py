"""The demo report's sections: a registry of section builders, and the coin problems' sections.

A section builder is a function ``(ctx: SectionContext) -> Section``, registered under a key::

    @register_section("gmm", "Gaussian mixture", requires=("emkit.models.gaussian",))
    def gmm_section(ctx: SectionContext) -> Section:
        from emkit.models.gaussian import GaussianMixture   # import the model lazily
        with stopwatch() as fit_time:
            model = GaussianMixture(2, random_state=ctx.seed).fit(X)
        return Section(title=..., hidden=..., estimated=..., seconds=fit_time.seconds,
                       figures=[...], tables=[...])

:func:`build_sections` runs the builders in the course's order (:data:`COURSE`, then any other
registered key). A section whose ``requires`` cannot be imported, or a course problem with no
builder registered, becomes a :class:`~emkit.report.blocks.Skipped` note on the page: never a
placeholder presented as a result. See ``docs/report.md``.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from emkit.report.blocks import Section, Skipped, Table, stopwatch

__all__ = [
    "BUILTIN_SECTION_MODULES",
    "COURSE",
    "SECTIONS",
    "SectionContext",
    "SectionSpec",
    "build_sections",
    "load_section_modules",
    "missing_requirements",
    "planned_keys",
    "register_section",
]

#: The course's problems in page order: ``(key, title)``. A key with no registered builder is
#: shown as "not in this build". Register a builder under one of these keys to fill it in.
COURSE: list[tuple[str, str]] = [
    ("two-coins", "Two coins: soft vs hard EM"),
    ("three-coins", "Three coins: a model the data cannot identify"),
    ("linkage", "Genetic linkage: how fast EM converges"),
    ("annotators", "Crowd annotators: who to trust"),
    ("gmm", "Gaussian mixture on Old Faithful"),
    ("kmeans", "k-means (hard EM) beside soft EM"),
    ("segmentation", "Image segmentation"),
    ("topics", "Topic model: top words"),
    ("motif", "Motif finding: the sequence logo"),
    ("lsh", "Locality-sensitive hashing: recall"),
    ("hmm", "Hidden Markov model: earthquake regimes"),
]

#: Modules whose import registers further sections (one line per model family). They are
#: imported by :func:`build_sections`, so a section module may import this one freely.
BUILTIN_SECTION_MODULES: tuple[str, ...] = (
    "emkit.report.section_annotators",
    "emkit.report.section_gmm",
    "emkit.report.section_segmentation",
    "emkit.report.section_motif",
    "emkit.report.section_topics",
    "emkit.report.section_lsh",
    "emkit.report.section_hmm",
)


@dataclass(frozen=True)
class SectionContext:
    """What a builder may use.

    Attributes
    ----------
    seed : int
        Seed for anything random (pass as ``random_state``), so the page is reproducible.
    quick : bool
        Build a smaller version (fewer rows, fewer iterations) for tests; the page must still
        be truthful about what it shows.
    status : callable
        ``status("fitting ...")`` updates the progress display; call it before long steps.
    """

    seed: int = 0
    quick: bool = False
    status: Callable[[str], None] = field(default=lambda _message: None)


Builder = Callable[[SectionContext], Section]


@dataclass(frozen=True)
class SectionSpec:
    """A registered section: its key (page anchor), title, builder and requirements."""

    key: str
    title: str
    build: Builder
    requires: tuple[str, ...] = ()


#: Every registered section, by key.
SECTIONS: dict[str, SectionSpec] = {}


def register_section(
    key: str, title: str, *, requires: Sequence[str] = ()
) -> Callable[[Builder], Builder]:
    """Register a section builder under ``key`` (a decorator).

    Parameters
    ----------
    key : str
        Short name, used as the page anchor and by ``emkit demo --only``; one of the
        :data:`COURSE` keys puts the section at the course's place, any other key after them.
    title : str
        Shown in the contents and, if the section is skipped, in the note.
    requires : sequence of str
        Modules the builder imports (the model's module, optional dependencies). If one is
        not installed the section is skipped with a note saying which.
    """

    def decorator(build: Builder) -> Builder:
        SECTIONS[key] = SectionSpec(key, title, build, tuple(requires))
        return build

    return decorator


def missing_requirements(requires: Iterable[str]) -> list[str]:
    """The modules in ``requires`` that cannot be imported here (found without importing)."""
    missing = []
    for name in requires:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a parent package is missing
            found = False
        if not found:
            missing.append(name)
    return missing


def load_section_modules() -> None:
    """Import :data:`BUILTIN_SECTION_MODULES` (their sections and report hooks register)."""
    for module in BUILTIN_SECTION_MODULES:
        importlib.import_module(module)


def planned_keys() -> list[str]:
    """Every key the page shows, in order: the course's, then other registered sections."""
    load_section_modules()
    course = [key for key, _ in COURSE]
    return course + [key for key in SECTIONS if key not in course]


def build_sections(
    keys: Sequence[str] | None = None,
    ctx: SectionContext | None = None,
    *,
    on_start: Callable[[str, str], None] | None = None,
    on_done: Callable[[Section | Skipped], None] | None = None,
) -> list[Section | Skipped]:
    """Build the sections (all of :func:`planned_keys` by default) in page order.

    Parameters
    ----------
    keys : sequence of str, optional
        Only these keys (unknown keys raise ``ValueError``).
    ctx : SectionContext, optional
        Passed to every builder.
    on_start : callable, optional
        ``on_start(key, title)`` before each section (for progress displays).
    on_done : callable, optional
        ``on_done(section_or_skipped)`` after each.

    Returns
    -------
    list of Section or Skipped
        Builder errors are not caught: a failing section is a bug to fix, not a note.
    """
    ctx = SectionContext() if ctx is None else ctx
    order = planned_keys()
    if keys is not None:
        unknown = [k for k in keys if k not in order]
        if unknown:
            raise ValueError(f"unknown section {unknown[0]!r}; known: {', '.join(order)}")
        order = [k for k in order if k in keys]
    titles = dict(COURSE)
    results: list[Section | Skipped] = []
    for key in order:
        spec = SECTIONS.get(key)
        title = spec.title if spec else titles[key]
        if on_start is not None:
            on_start(key, title)
        result: Section | Skipped
        if spec is None:
            result = Skipped(key, title, "not in this build of emkit yet (no model for it)")
        elif missing := missing_requirements(spec.requires):
            result = Skipped(key, title, f"needs {', '.join(missing)}, which is not installed")
        else:
            start = time.perf_counter()
            result = spec.build(ctx)
            result.key = key
            result.build_seconds = time.perf_counter() - start
        results.append(result)
        if on_done is not None:
            on_done(result)
    return results


# -- the coin problems ----------------------------------------------------------------------
@register_section("two-coins", "Two coins: soft vs hard EM")
def two_coins_section(ctx: SectionContext) -> Section:
    """Do & Batzoglou (2008): iteration tables (soft and hard) and θ trajectories."""
    from emkit.course import two_coins_table
    from emkit.datasets import two_coins
    from emkit.report import figures

    data = two_coins()
    with stopwatch() as fit_time:
        soft = two_coins_table(hard=False, n_iter=10)
        hard = two_coins_table(hard=True, n_iter=3)
    n_sets = data.X.shape[0]
    soft_rows, hard_rows = np.asarray(soft.rows), np.asarray(hard.rows)
    theta_cols = slice(1 + n_sets, 3 + n_sets)
    post_cols = slice(1, 1 + n_sets)
    ctx.status("drawing the two-coin figures")
    theta_soft, theta_hard = soft_rows[:, theta_cols], hard_rows[:, theta_cols]
    a0, b0 = theta_soft[0]
    a10, b10 = theta_soft[-1]
    a1, b1 = theta_soft[1]
    ha, hb = theta_hard[1]
    hard_fixed = int(np.argmax(np.all(theta_hard[1:] == theta_hard[:-1], axis=1)))
    heads = data.X[:, 0]
    return Section(
        title="Two coins: soft vs hard EM",
        hidden=f"Which of two coins, A or B, was tossed for each of {n_sets} sets of "
        f"{data.n_trials} tosses (heads {', '.join(str(int(h)) for h in heads)}).",
        estimated=f"The coins' probabilities of heads: from θ_A = {a0:.1f}, θ_B = {b0:.1f}, "
        f"soft EM gives ({a1:.2f}, {b1:.2f}) after one iteration and ({a10:.2f}, {b10:.2f}) "
        f"after ten, hard EM ({ha:.2f}, {hb:.2f}) after one, where its assignments stop "
        "changing; as in Do & Batzoglou (2008), Figure 1.",
        seconds=fit_time.seconds,
        figures=[
            figures.two_coins_theta_figure(
                theta_soft, theta_hard, heads, data.n_trials, data.weights_init
            ),
            figures.two_coins_posterior_figure(
                soft_rows[:, post_cols],
                hard_rows[:, post_cols],
                [f"{int(h)} heads" for h in heads],
            ),
        ],
        tables=[Table.from_iterations(soft), Table.from_iterations(hard)],
        notes=[
            "In the tables, row t holds the posteriors P(coin A | set) of E-step t + 1, "
            "computed at the θ of that row (after t M-steps); columns are named by the heads in "
            f"each set. Hard EM reaches its fixed point at iteration {hard_fixed}: each set is "
            "given wholly to one coin, and the log-likelihood it climbs is the classification "
            "one (of the data and the assignments), lower than soft EM's.",
            f"Source: {data.source}.",
        ],
    )


def _fmt(values: np.ndarray) -> str:
    return ", ".join(f"{v:.4f}" for v in values)


@register_section("three-coins", "Three coins: a model the data cannot identify")
def three_coins_section(ctx: SectionContext) -> Section:
    """Li Hang example 9.1 from the book's two starts."""
    from emkit.course import three_coins_table
    from emkit.datasets import three_coins
    from emkit.report import figures

    starts = [(0.5, 0.5, 0.5), (0.4, 0.6, 0.7)]
    with stopwatch() as fit_time:
        tables = [three_coins_table(start) for start in starts]
    data = three_coins()
    observed = float(np.mean(data.X))
    runs = [(str(s), np.asarray(t.rows)[:, 1:4]) for s, t in zip(starts, tables, strict=True)]
    ends = [run[-1] for _, run in runs]
    lls = [t.rows[-1][-1] for t in tables]
    ctx.status("drawing the three-coin figure")
    return Section(
        title="Three coins: a model the data cannot identify",
        hidden="For each of 10 tosses of coin B or C, the result of coin A (heads with "
        "probability π) that chose which of them was tossed.",
        estimated=f"(π, p, q): from (0.5, 0.5, 0.5) EM reaches ({_fmt(ends[0])}) "
        f"and from (0.4, 0.6, 0.7) it reaches ({_fmt(ends[1])}) — "
        f"one iteration each, the same log-likelihood {lls[0]:.4f} = {lls[1]:.4f}, as in "
        "Li Hang's example 9.1.",
        seconds=fit_time.seconds,
        figures=[figures.three_coins_figure(runs, observed)],
        tables=[Table.from_iterations(t) for t in tables],
        notes=[
            "EM found a maximum of the likelihood each time, but not a unique one: many "
            "(π, p, q) explain the tosses equally well, so the answer depends on the start.",
            f"Source: {data.source}.",
        ],
    )


@register_section("linkage", "Genetic linkage: how fast EM converges")
def linkage_section(ctx: SectionContext) -> Section:
    """Dempster, Laird & Rubin (1977), Table 1, with the rate of convergence."""
    from emkit.course import dlr_linkage_table
    from emkit.datasets import genetic_linkage
    from emkit.report import figures

    with stopwatch() as fit_time:
        table = dlr_linkage_table(n_iter=8)
    rows = np.asarray(table.rows)
    _, counts = genetic_linkage()
    theta_star = float(rows[-1, 1] - rows[-1, 2])

    def em_map(t: float) -> float:
        expected = counts[0] * t / (2 + t)  # animals of cell 0 expected from the t/4 part
        return (expected + counts[3]) / (expected + counts[1] + counts[2] + counts[3])

    h = 1e-6
    rate = (em_map(theta_star + h) - em_map(theta_star - h)) / (2 * h)
    ctx.status("drawing the convergence figure")
    return Section(
        title="Genetic linkage: how fast EM converges",
        hidden="How many of the 125 animals in the first phenotype cell belong to its "
        "θ/4 sub-cell rather than its 1/2 sub-cell.",
        estimated=f"The linkage parameter θ = {theta_star:.9f} from θ = 0.5, shrinking the error "
        f"by a factor {rate:.4f} per iteration, as in Dempster, Laird & Rubin (1977), Table 1.",
        seconds=fit_time.seconds,
        figures=[figures.convergence_rate_figure(rows[:, 2], rows[:, 3], rate)],
        tables=[Table.from_iterations(table)],
        notes=[
            "Source: Dempster, Laird & Rubin (1977), J. R. Stat. Soc. B 39:1-38, section 1, "
            "Rao's data (125, 18, 20, 34)."
        ],
    )
