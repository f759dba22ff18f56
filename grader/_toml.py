"""TOML reading on every supported Python: the standard library's ``tomllib`` from 3.11,
``tomli`` (the same parser, published separately) on 3.10."""

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["tomllib"]
