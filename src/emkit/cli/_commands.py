"""Every ``emkit`` subcommand: the module that defines it and the line ``emkit --help`` shows.

The command line imports a subcommand's module only when that command runs (or its own
``--help`` is asked for), so ``emkit --version`` and ``emkit --help`` start in a few tens of
milliseconds. To add a command, write its module (``@app.command()`` on
:data:`emkit.cli._app.app`, models imported inside the function) and add a line here; the
short help must be the first line of the command's docstring (``tests/test_cli.py`` checks).
"""

from __future__ import annotations

__all__ = ["COMMANDS"]

#: name -> (module, short help), in the order ``emkit --help`` lists them
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "emkit.cli.demo",
        "Run the course's problems on bundled data: iteration tables here, figures in "
        "OUTPUT_DIR/report.html (one self-contained page).",
    ),
    "binomial": (
        "emkit.cli.fit",
        "Fit a binomial mixture (e.g. coins with unknown identity) to success counts.",
    ),
    "bernoulli": (
        "emkit.cli.fit",
        "Fit a Bernoulli mixture (latent classes of binary vectors) to 0/1 columns.",
    ),
    "gmm": (
        "emkit.cli.gmm",
        "Fit a Gaussian mixture to the numeric columns of a CSV or Parquet file.",
    ),
    "hmm": (
        "emkit.cli.hmm",
        "Fit a hidden Markov model (Baum-Welch) to the rows of a CSV or Parquet file.",
    ),
    "impute": (
        "emkit.cli.impute",
        "Fill the missing cells of a CSV file from a Gaussian mixture fitted by EM.",
    ),
    "kmeans": (
        "emkit.cli.gmm",
        "k-means (Lloyd's algorithm, hard EM) on the numeric columns of a CSV or Parquet file.",
    ),
    "annotators": (
        "emkit.cli.crowd",
        "Whom to trust among annotators who give numeric scores, and each task's true score.",
    ),
    "labels": (
        "emkit.cli.crowd",
        "True labels from crowd answers: majority vote, one-coin or full Dawid-Skene, GLAD, MACE.",
    ),
    "topics": (
        "emkit.cli.topics",
        "Fit a topic model to a text corpus: print the topics, write document-topic weights.",
    ),
    "segment": (
        "emkit.cli.segment",
        "Split IMAGE into foreground and background (GrabCut-style with --rect, else "
        "unsupervised).",
    ),
    "motif": (
        "emkit.cli.motif",
        "Find motifs by EM (MEME's OOPS / ZOOPS models) and report PWMs, consensus and sites.",
    ),
    "lsh": (
        "emkit.cli.lsh",
        "Nearest neighbours by random-projection LSH: build an index, query it.",
    ),
    "report": (
        "emkit.cli.report",
        "Build a self-contained HTML page for a saved fit: objective per iteration, parameters, "
        "and the model's own figures.",
    ),
}
