"""Settings come from flags, then the environment, then clarion.toml, then defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from clarion.config import DEFAULT_DATABASE_URL, load_settings


def test_defaults_without_anything(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLARION_DATABASE_URL", raising=False)
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 8000


def test_precedence_flag_env_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clarion.toml").write_text(
        'database_url = "sqlite:///from-toml.db"\nport = 9001\nhost = "0.0.0.0"\n'
    )
    monkeypatch.delenv("CLARION_DATABASE_URL", raising=False)
    assert load_settings().database_url == "sqlite:///from-toml.db"
    monkeypatch.setenv("CLARION_PORT", "9002")
    settings = load_settings()
    assert (settings.port, settings.host) == (9002, "0.0.0.0")
    assert load_settings(port=9003, host=None).port == 9003


def test_config_file_can_be_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('admin_key = "bootstrap"\n')
    monkeypatch.setenv("CLARION_CONFIG", str(path))
    settings = load_settings()
    assert settings.admin_key is not None
    assert settings.admin_key.get_secret_value() == "bootstrap"
