"""Where the compilation cache lives, and how a user moves or turns it off."""

from pathlib import Path

from lstmstate.core.compilation_cache import cache_folder


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("LSTMSTATE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "lstmstate" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_folder() == Path.home() / ".cache" / "lstmstate" / "jax"
    monkeypatch.setenv("LSTMSTATE_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_folder() == tmp_path / "mine"
    monkeypatch.setenv("LSTMSTATE_CACHE_DIR", "off")
    assert cache_folder() is None
