"""Bundled capability profiles, one TOML file per charger model (a package so that wheels carry them)."""
