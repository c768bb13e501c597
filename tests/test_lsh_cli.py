"""``emkit lsh build`` / ``emkit lsh query`` through the real entry point (exit codes included)."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from emkit.lsh import LSHIndex, brute_force_knn
from tests._cli import run_cli as run


@pytest.fixture
def vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.normal(size=(120, 6)) + rng.normal(0, 4, (4, 6))[rng.integers(0, 4, 120)]


def test_build_npy_and_query_csv(
    tmp_path: Path, vectors: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "x.npy", vectors)
    code, out, err = run(
        ["lsh", "build", str(tmp_path / "x.npy"), "-o", str(tmp_path / "idx"),
         "--nbits", "16", "--tables", "2", "--seed", "3", "--rerank", "120"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "indexed 120 vectors of 6 features" in out
    assert (tmp_path / "idx.json").exists() and (tmp_path / "idx.npz").exists()
    np.save(tmp_path / "q.npy", vectors[:7])
    code, out, err = run(
        ["lsh", "query", str(tmp_path / "idx"), str(tmp_path / "q.npy"), "-k", "4"], capsys
    )
    assert code == 0, err
    rows = list(csv.DictReader(out.splitlines()))
    assert len(rows) == 7 * 4 and list(rows[0]) == ["query", "rank", "neighbor", "distance"]
    got = np.array([int(r["neighbor"]) for r in rows]).reshape(7, 4)
    exact_d, exact_i = brute_force_knn(vectors, vectors[:7], 4)  # rerank=all: exact
    np.testing.assert_array_equal(got, exact_i)
    dist = np.array([float(r["distance"]) for r in rows]).reshape(7, 4)
    np.testing.assert_allclose(dist, exact_d, rtol=1e-12, atol=1e-12)


def test_csv_with_header_gzip_columns_and_json_output(
    tmp_path: Path, vectors: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["a,b,c,d,e,f,label"] + [
        ",".join(map(repr, row.tolist())) + f",{i % 3}" for i, row in enumerate(vectors)
    ]
    (tmp_path / "x.csv.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    code, out, err = run(
        ["lsh", "build", str(tmp_path / "x.csv.gz"), "-o", str(tmp_path / "idx"),
         "-c", "a,b,c,d,e,f", "--seed", "1", "--metric", "cosine", "--json"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["n_samples"] == 120 and summary["n_features"] == 6
    assert summary["metric"] == "cosine"
    code, out, err = run(
        ["lsh", "query", str(tmp_path / "idx"), str(tmp_path / "x.csv.gz"), "-c", "0:6",
         "-k", "3", "-o", str(tmp_path / "nn.json")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    result = json.loads((tmp_path / "nn.json").read_text())
    index = LSHIndex.load(tmp_path / "idx")
    dist, ind = index.query(vectors, 3)
    assert result["k"] == 3
    assert result["neighbors"] == ind.tolist()
    np.testing.assert_allclose(result["distances"], dist)


def test_headerless_csv_and_csv_output_file(
    tmp_path: Path, vectors: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savetxt(tmp_path / "x.csv", vectors, delimiter=",")
    assert run(["lsh", "build", str(tmp_path / "x.csv"), "-o", str(tmp_path / "i")], capsys)[0] == 0
    code, _, err = run(
        ["lsh", "query", str(tmp_path / "i"), str(tmp_path / "x.csv"), "-k", "2",
         "--probes", "3", "-o", str(tmp_path / "nn.csv")],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    rows = list(csv.DictReader((tmp_path / "nn.csv").read_text().splitlines()))
    assert 0 < len(rows) <= 240


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1,2\n3,nan\n", "not finite"),
        ("1,2\n3\n", "1 fields, expected 2"),
        ("x,y\n", "no data rows"),
        ("a,b\n1,zz\n", "not a number"),
    ],
)
def test_bad_vectors_one_line_error_exit_2_no_files(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.csv").write_text(content)
    code, _, err = run(
        ["lsh", "build", str(tmp_path / "bad.csv"), "-o", str(tmp_path / "i")], capsys
    )
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not list(tmp_path.glob("i*"))


def test_query_errors_exit_2(
    tmp_path: Path, vectors: np.ndarray, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "x.npy", vectors)
    run(["lsh", "build", str(tmp_path / "x.npy"), "-o", str(tmp_path / "i")], capsys)
    np.save(tmp_path / "q.npy", vectors[:, :5])
    code, _, err = run(["lsh", "query", str(tmp_path / "i"), str(tmp_path / "q.npy")], capsys)
    assert code == 2 and "has 5 features but the index was built with 6" in err
    code, _, err = run(
        ["lsh", "query", str(tmp_path / "i"), str(tmp_path / "x.npy"), "-k", "500"], capsys
    )
    assert code == 2 and "k=500 exceeds the 120 vectors" in err
    code, _, err = run(["lsh", "query", str(tmp_path / "nope"), str(tmp_path / "x.npy")], capsys)
    assert code == 2 and "cannot read index file" in err
    code, _, err = run(
        ["lsh", "build", str(tmp_path / "x.npy"), "-o", str(tmp_path / "j"), "--metric", "dot"],
        capsys,
    )
    assert code == 2 and "'metric' parameter of LSHIndex" in err
    code, _, err = run(
        ["lsh", "build", str(tmp_path / "x.npy"), "-o", str(tmp_path / "j"), "-c", "9"], capsys
    )
    assert code == 2 and "unknown column '9'" in err
