"""Exceptions: every negative return of the library raises a
:class:`VyomcommError` subclass chosen by its code.

The message is the library's one-line detail (``vc_error_last()``), read
on the thread that made the failing call, immediately after it returned.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple, Type

from . import _lib


class VyomcommError(Exception):
    """A failure reported by libvyomcomm.

    Attributes:
        code: the negative ``VC_E*`` code.
        name: its symbolic name, e.g. ``"VC_ENOTFOUND"``.
        message: the library's one-line detail for this failure.
        klass: the error class (``vc_error_class``) the library gave.
        provider_status: the provider's HTTP or SIP status when relevant,
            else 0.
    """

    code: int = -1
    name: str = "VC_ERROR"

    def __init__(self, message: str = "", code: Optional[int] = None,
                 klass: int = 0, provider_status: int = 0) -> None:
        if code is not None:
            self.code = code
            self.name = CODE_NAMES.get(code, f"VC_E({code})")
        self.message = message or _lib.dec(_lib.lib.vc_strerror(self.code))
        self.klass = klass
        self.provider_status = provider_status
        super().__init__(f"{self.name}: {self.message}")


def _make(code: int, name: str, doc: str,
          *bases: Type[BaseException]) -> Type[VyomcommError]:
    cls = type(_CLASS_NAMES[code], (VyomcommError,) + bases,
               {"code": code, "name": name, "__doc__": doc})
    cls.__module__ = __name__
    return cls


_CLASS_NAMES = {
    -1: "GenericError", -2: "NoMemory", -3: "NotFound", -4: "AlreadyExists",
    -5: "InvalidArgument", -6: "Busy", -7: "Timeout", -8: "AuthError",
    -9: "NotSupported", -10: "Canceled", -11: "RateLimited",
    -12: "ProviderError", -13: "StorageError", -14: "VersionMismatch",
    -15: "CryptoError", -16: "MasterKeyError", -17: "Conflict",
    -18: "TooBig", -19: "EncodingError", -20: "CorruptStore",
    -21: "InvalidState", -22: "NetworkError", -23: "ConsentRequired",
    -24: "RulesWouldLoop", -30: "UserAbort", -31: "Passthrough",
    -32: "IterationOver",
}

#: Every pinned code of include/vyomcomm/errors.h and its C name.
CODE_NAMES: Dict[int, str] = {
    -1: "VC_ERROR", -2: "VC_ENOMEM", -3: "VC_ENOTFOUND", -4: "VC_EEXISTS",
    -5: "VC_EINVALID", -6: "VC_EBUSY", -7: "VC_ETIMEOUT", -8: "VC_EAUTH",
    -9: "VC_ENOTSUPPORTED", -10: "VC_ECANCELED", -11: "VC_ERATELIMIT",
    -12: "VC_EPROVIDER", -13: "VC_ESTORAGE", -14: "VC_EVERSION",
    -15: "VC_ECRYPTO", -16: "VC_EKEY", -17: "VC_ECONFLICT",
    -18: "VC_ETOOBIG", -19: "VC_EENCODING", -20: "VC_ECORRUPT",
    -21: "VC_ESTATE", -22: "VC_ENET", -23: "VC_ECONSENT", -24: "VC_ELOOP",
    -30: "VC_EUSER",
    -31: "VC_PASSTHROUGH", -32: "VC_ITEROVER",
}

GenericError = _make(-1, "VC_ERROR", "Generic failure.")
NoMemory = _make(-2, "VC_ENOMEM", "Out of memory.", MemoryError)
NotFound = _make(-3, "VC_ENOTFOUND", "The object does not exist.",
                 LookupError)
AlreadyExists = _make(-4, "VC_EEXISTS",
                      "An object with that unique key exists.")
InvalidArgument = _make(-5, "VC_EINVALID", "An argument is invalid.",
                        ValueError)
Busy = _make(-6, "VC_EBUSY", "Busy or locked; try again.")
Timeout = _make(-7, "VC_ETIMEOUT", "An operation timed out.")
AuthError = _make(-8, "VC_EAUTH", "Authentication or signature failed.")
NotSupported = _make(-9, "VC_ENOTSUPPORTED",
                     "Not supported by this build or backend.")
Canceled = _make(-10, "VC_ECANCELED", "The operation was canceled.")
RateLimited = _make(-11, "VC_ERATELIMIT", "A rate limit was hit.")
ProviderError = _make(-12, "VC_EPROVIDER",
                      "The provider rejected the request.")
StorageError = _make(-13, "VC_ESTORAGE", "The storage backend failed.")
VersionMismatch = _make(-14, "VC_EVERSION",
                        "Version mismatch (store or struct).")
CryptoError = _make(-15, "VC_ECRYPTO", "A ciphertext failed to decrypt.")
MasterKeyError = _make(-16, "VC_EKEY",
                       "Master key missing or not the store's key.")
Conflict = _make(-17, "VC_ECONFLICT",
                 "Same key, different content (idempotency).")
TooBig = _make(-18, "VC_ETOOBIG", "An input exceeds its size limit.",
               ValueError)
EncodingError = _make(-19, "VC_EENCODING", "A string is not valid UTF-8.",
                      ValueError)
CorruptStore = _make(-20, "VC_ECORRUPT",
                     "The store is not a database or is damaged.")
InvalidState = _make(-21, "VC_ESTATE",
                     "Not allowed in the object's current state.")
NetworkError = _make(-22, "VC_ENET", "A network or transport failure.")
ConsentRequired = _make(-23, "VC_ECONSENT",
                        "The recipient opted out, is on the do-not-call "
                        "list, or has not opted in where that is needed.")
RulesWouldLoop = _make(-24, "VC_ELOOP",
                       "Automation rules that would trigger themselves.")
UserAbort = _make(-30, "VC_EUSER", "A host callback aborted.")
Passthrough = _make(-31, "VC_PASSTHROUGH", "A plugin declined.")
IterationOver = _make(-32, "VC_ITEROVER", "An iteration has no more items.")

#: The exception class of each code.
BY_CODE: Dict[int, Type[VyomcommError]] = {
    c.code: c for c in (
        GenericError, NoMemory, NotFound, AlreadyExists, InvalidArgument,
        Busy, Timeout, AuthError, NotSupported, Canceled, RateLimited,
        ProviderError, StorageError, VersionMismatch, CryptoError,
        MasterKeyError, Conflict, TooBig, EncodingError, CorruptStore,
        InvalidState, NetworkError, ConsentRequired, RulesWouldLoop,
        UserAbort, Passthrough, IterationOver)
}


def error_for(code: int, detail: Optional[Tuple[int, int, str]] = None
              ) -> VyomcommError:
    """The exception for `code` (an unknown negative code gives the base
    class), with `detail` = (class, provider status, message)."""
    klass, status, message = detail if detail else (0, 0, "")
    cls = BY_CODE.get(code)
    if cls is None:
        return VyomcommError(message, code=code, klass=klass,
                             provider_status=status)
    return cls(message, klass=klass, provider_status=status)


def _raise_for(code: int, detail: Optional[Tuple[int, int, str]]) -> None:
    raise error_for(code, detail)


_lib.raise_for = _raise_for

__all__ = ["VyomcommError", "error_for", "BY_CODE", "CODE_NAMES"] + [
    c.__name__ for c in BY_CODE.values()]
