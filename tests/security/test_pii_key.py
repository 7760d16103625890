"""The PII key: generated per secrets folder on the embedded stack, refused when public elsewhere."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest
from pydantic import SecretStr

from ops.settings import PUBLIC_DEV_PII_KEY, REPO_ROOT, InsecureSettingsError, Settings

PRODUCTION = {"warehouse_url_override": "postgresql://etl@db.internal:5432/wh"}


def test_the_embedded_default_generates_one_private_key_per_home(tmp_path):
    first = Settings(home=tmp_path / "a")
    key = first.pii_hash_key.get_secret_value()
    assert len(key) >= 32 and key != PUBLIC_DEV_PII_KEY
    assert Settings(home=tmp_path / "a").pii_hash_key.get_secret_value() == key  # stable across processes
    assert Settings(home=tmp_path / "b").pii_hash_key.get_secret_value() != key  # random per home
    assert stat.S_IMODE(first.pii_key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.secrets_dir.stat().st_mode) == 0o700
    assert key not in repr(first)
    given = Settings(
        home=tmp_path / "a", pii_hash_key_override=SecretStr("explicit-key-wins-0123456789abcdef")
    )
    assert given.pii_hash_key.get_secret_value() == "explicit-key-wins-0123456789abcdef"


@pytest.mark.parametrize("key", [None, PUBLIC_DEV_PII_KEY])
def test_outside_the_embedded_stack_a_missing_or_public_key_is_refused(tmp_path, key):
    settings = Settings(home=tmp_path, pii_hash_key_override=key and SecretStr(key), **PRODUCTION)
    assert not settings.embedded
    with pytest.raises(InsecureSettingsError, match=r"PII_HASH_KEY .* not the embedded default"):
        settings.check_secure()
    assert not settings.pii_key_file.exists(), "no key is generated for a deployment"
    for other in ({"lake_uri_override": "s3a://lake/prod"}, {"spark_master": "spark://master:7077"}):
        assert not Settings(home=tmp_path, **other).embedded


def test_the_cli_refuses_to_start_with_the_public_key(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "MERCATOR_HOME": str(tmp_path),
        "WAREHOUSE_URL": "postgresql://etl@db.internal:5432/wh",
        "PII_HASH_KEY": PUBLIC_DEV_PII_KEY,
    }
    done = subprocess.run(
        [sys.executable, "-m", "ops", "backfill", "--start", "2025-11-01", "--end", "2025-11-01"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "refusing to start: PII_HASH_KEY is the public development key" in done.stderr
    assert "Traceback" not in done.stderr
