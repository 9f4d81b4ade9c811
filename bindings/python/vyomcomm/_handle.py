"""Ownership of C handles.

Every object that owns a handle frees it exactly once: on ``close()``, at
the end of a ``with`` block, or (only as a fallback) when garbage
collected. A handle made from another (a channel from its tenant, a
tenant from its context) keeps its parent alive, and closing a parent
first closes the children still open, since the C library requires
handles to be freed before the context they came from.
"""

from __future__ import annotations

import ctypes
import threading
import weakref
from typing import Any, Callable, Generic, Iterator, Optional, TypeVar

from . import _lib

T = TypeVar("T", bound="Handle")
Item = TypeVar("Item")


class Handle:
    """Base of the classes that own a C handle."""

    _free: Callable[[Any], None]

    def __init__(self, ptr: ctypes.c_void_p,
                 parent: Optional["Handle"] = None) -> None:
        self._ptr: Optional[int] = ptr.value
        self._parent = parent
        self._children: "weakref.WeakSet[Handle]" = weakref.WeakSet()
        self._lock = threading.Lock()
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: "Handle") -> None:
        with self._lock:
            if self._ptr is None:
                raise ValueError(f"{type(self).__name__} is closed")
            self._children.add(child)

    @property
    def _h(self) -> int:
        """The raw handle; ValueError once closed."""
        p = self._ptr
        if p is None:
            raise ValueError(f"{type(self).__name__} is closed")
        return p

    @property
    def closed(self) -> bool:
        return self._ptr is None

    def close(self) -> None:
        """Free the handle (and first every handle made from it that is
        still open). Must be the last call on the object; calling it
        again does nothing."""
        with self._lock:
            p, self._ptr = self._ptr, None
            children = list(self._children)
            self._children = weakref.WeakSet()
        if p is None:
            return
        for c in children:
            c.close()
        self._release(p)

    def _release(self, p: int) -> None:
        type(self)._free(p)

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        # A fallback only: close() explicitly or use `with`.
        try:
            if getattr(self, "_ptr", None) is not None and _lib is not None:
                self.close()
        except Exception:
            pass


def _raw_free(name: str) -> Callable[[Any], None]:
    f = getattr(_lib.lib, name)
    return lambda p: f(p)


class ListIter(Generic[Item]):
    """An iterator over a list read from the store a page at a time.

    Iterate it (``for x in it``) or call ``next()``; ``cursor`` is the
    position after the last item returned, to pass as ``after=`` later.
    The C iterator is freed at the end of the list, on ``close()``, at
    the end of a ``with`` block, or (as a fallback) when collected. One
    thread at a time.
    """

    def __init__(self, it: ctypes.c_void_p, next_item: Callable[[int], Any],
                 owner: Optional[Handle] = None, keep: Any = None) -> None:
        self._it: Optional[int] = it.value
        self._next_item = next_item
        self._keep = (owner, keep)  # alive meanwhile: parent and filter
        if owner is not None:
            # Closing the owner first frees the iterator.
            try:
                owner._adopt(self)  # type: ignore[arg-type]
            except ValueError:
                self.close()
                raise

    def __iter__(self) -> "ListIter[Item]":
        return self

    def __next__(self) -> Item:
        if self._it is None:
            raise StopIteration
        item = self._next_item(self._it)
        if item is None:
            self.close()
            raise StopIteration
        return item

    @property
    def cursor(self) -> str:
        """The vc_iter_cursor() value ("" before the first item)."""
        if self._it is None:
            return getattr(self, "_last_cursor", "")
        return _lib.dec(_lib.lib.vc_iter_cursor(self._it))

    def close(self) -> None:
        it, self._it = self._it, None
        if it is not None:
            self._last_cursor = _lib.dec(_lib.lib.vc_iter_cursor(it))
            _lib.lib.vc_iter_free(it)
            self._keep = None

    def __enter__(self) -> "ListIter[Item]":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def handle_list(list_fn: Any, next_fn: Any, owner: Handle, filt: Any,
                wrap: Callable[[ctypes.c_void_p], Any]) -> ListIter[Any]:
    """A ListIter over ``list_fn(&it, parent, &filter)`` whose items are
    new handles from ``next_fn(&out, it)``, wrapped by `wrap`."""
    it = ctypes.c_void_p()
    list_fn(ctypes.byref(it), owner._h, ctypes.byref(filt))

    def next_item(raw: int) -> Any:
        out = ctypes.c_void_p()
        if next_fn(ctypes.byref(out), raw) == _lib.VC_ITEROVER:
            return None
        return wrap(out)

    return ListIter(it, next_item, owner, filt)


def record_list(list_fn: Any, next_fn: Any, free_fn: Any, subject: int,
                owner: Handle, filt: Any,
                convert: Callable[[int], Any]) -> ListIter[Any]:
    """A ListIter over ``list_fn(&it, subject, &filter)`` whose items are
    plain records: each C item from ``next_fn(&out, it)`` is copied by
    `convert` and freed with `free_fn` at once."""
    it = ctypes.c_void_p()
    list_fn(ctypes.byref(it), subject, ctypes.byref(filt))

    def next_item(raw: int) -> Any:
        out = ctypes.c_void_p()
        if next_fn(ctypes.byref(out), raw) == _lib.VC_ITEROVER:
            return None
        try:
            return convert(out.value)
        finally:
            free_fn(out)

    return ListIter(it, next_item, owner, filt)


__all__ = ["Handle", "ListIter", "handle_list", "record_list",
           "Iterator"]
