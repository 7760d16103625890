"""Salted hash buckets: stable across processes and versions, uniform, independent between salts."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import stats

from abtest.hashing import N_BUCKETS, bucket, buckets, pseudonym

IDS = [f"customer-{i}" for i in range(100_000)]


def test_bucket_is_sha256_of_salt_and_unit_id():
    expected = int.from_bytes(hashlib.sha256(b"exp-salt:user-1").digest()[:8], "big") % N_BUCKETS
    assert bucket("user-1", "exp-salt") == expected
    # golden values: changing the hash silently reshuffles every running experiment
    assert [bucket(u, "exp-salt") for u in ("user-1", "user-2", 42)] == [
        expected,
        int.from_bytes(hashlib.sha256(b"exp-salt:user-2").digest()[:8], "big") % N_BUCKETS,
        int.from_bytes(hashlib.sha256(b"exp-salt:42").digest()[:8], "big") % N_BUCKETS,
    ]
    assert bucket(42, "s") == bucket("42", "s")


def test_bucket_is_identical_in_processes_with_different_hash_seeds():
    code = "from abtest.hashing import bucket; print([bucket(f'u{i}', 'salt-x') for i in range(50)])"
    outputs = set()
    for seed in ("1", "987654"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        outputs.add(run.stdout)
    assert outputs == {str([bucket(f"u{i}", "salt-x") for i in range(50)]) + "\n"}


def test_vectorised_buckets_match_scalar_and_stay_in_range():
    arr = buckets(IDS[:2000], "s1")
    assert arr.tolist() == [bucket(u, "s1") for u in IDS[:2000]]
    full = buckets(IDS, "s1")
    assert full.min() >= 0 and full.max() < N_BUCKETS


def test_buckets_are_uniform():
    counts = np.bincount(buckets(IDS, "uniformity") // 100, minlength=100)
    assert stats.chisquare(counts).pvalue > 0.001


def test_different_salts_are_independent():
    a = buckets(IDS, "salt-a") // 1000
    b = buckets(IDS, "salt-b") // 1000
    table = np.zeros((10, 10))
    np.add.at(table, (a, b), 1)
    assert stats.chi2_contingency(table).pvalue > 0.001
    # the check has power: the same salt is perfectly dependent
    same = np.zeros((10, 10))
    np.add.at(same, (a, a), 1)
    assert stats.chi2_contingency(same + 0.5).pvalue < 1e-100


@pytest.mark.parametrize("salt", ["", "has:colon", None])
def test_bad_salt_is_rejected(salt):
    with pytest.raises(ValueError, match="salt"):
        bucket("u1", salt)


@pytest.mark.parametrize("unit", [None, ""])
def test_missing_unit_id_is_rejected(unit):
    with pytest.raises(ValueError, match="unit_id"):
        bucket(unit, "salt")


def test_pseudonym_hides_the_raw_id_but_is_stable():
    token = pseudonym("alice@example.com")
    assert token == pseudonym("alice@example.com") and len(token) == 12
    assert "alice" not in token and token != pseudonym("bob@example.com")
