"""Named registries of methods, so recipes, the CLI and contract tests can find them.

Examples
--------
>>> COLOURS = Registry("colours")
>>> @COLOURS.register("red")
... class Red:
...     pass
>>> COLOURS.get("red") is Red
True
>>> COLOURS.get("rde")
Traceback (most recent call last):
...
KeyError: "Unknown colours 'rde'. Did you mean 'red'? Available: red"
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from lower-case snake-case names to classes or factories.

    Parameters
    ----------
    kind : str
        What the registry holds, used in error messages (``"reweighter"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers ``obj`` under ``name`` and returns it unchanged."""
        if not name or name != name.lower() or " " in name:
            raise ValueError(f"Registry names are lower-case snake case; got {name!r}.")

        def decorator(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"A {self.kind} named {name!r} is already registered.")
            self._entries[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        """Return the entry called ``name``; unknown names fail with "did you mean"."""
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(str(name), list(self._entries), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            available = ", ".join(sorted(self._entries)) or "none registered"
            raise KeyError(
                f"Unknown {self.kind} {name!r}.{hint} Available: {available}"
            ) from None

    def names(self) -> list[str]:
        """Sorted registered names."""
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """Sorted ``(name, entry)`` pairs."""
        return sorted(self._entries.items())

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
