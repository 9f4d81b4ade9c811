"""The low-level layer: loading ``libvyomcomm.so.1`` and declaring, with
their argument and result types, the C functions and structs the package
uses.

Nothing here is public API. Handles are ``c_void_p``; structs mirror the
C headers field for field (``version`` first) and are always filled with
defaults by the library's own ``vc_x_init()`` twin, so a default changed
in C is never copied by hand here. Every function returning a ``VC_E*``
code gets an ``errcheck`` that reads ``vc_error_last()`` right after the
call, on the same thread, before anything else can touch the library,
and raises the matching exception.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p,
                    c_double, c_int, c_int32, c_int64, c_size_t, c_uint,
                    c_uint8, c_uint32, c_uint64, c_void_p)
from typing import Any, Callable, List, Optional, Sequence, Tuple

#: The ABI major this package is written for (the SONAME's number).
ABI_VERSION = 1
#: Size of an id buffer: 26 ULID characters and a NUL.
ID_SIZE = 27

VC_ITEROVER = -32


def _load() -> ctypes.CDLL:
    """Find and load the library: ``VYOMCOMM_LIBRARY`` first, then
    ``ctypes.util.find_library("vyomcomm")``, then ``libvyomcomm.so.1``
    through the dynamic loader's search path."""
    tried: List[str] = []
    env = os.environ.get("VYOMCOMM_LIBRARY")
    if env:
        try:
            return ctypes.CDLL(env)
        except OSError as e:
            # An explicit choice that fails is not silently replaced by
            # another copy of the library.
            raise ImportError(
                f"vyomcomm: cannot load VYOMCOMM_LIBRARY={env!r}: {e}") from e
    found = ctypes.util.find_library("vyomcomm")
    candidates = ([found] if found else []) + ["libvyomcomm.so.1"]
    if not found:
        tried.append('ctypes.util.find_library("vyomcomm"): not found')
    for name in candidates:
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            tried.append(f"{name}: {e}")
    raise ImportError(
        "vyomcomm: cannot find libvyomcomm.so.1; set VYOMCOMM_LIBRARY to "
        "its path. Tried: VYOMCOMM_LIBRARY (unset); " + "; ".join(tried))


lib = _load()

# ---- errors -----------------------------------------------------------------


class vc_error(Structure):
    _fields_ = [("klass", c_int), ("code", c_int),
                ("provider_status", c_int), ("message", c_char_p)]


lib.vc_error_last.restype = POINTER(vc_error)
lib.vc_error_last.argtypes = []
lib.vc_strerror.restype = c_char_p
lib.vc_strerror.argtypes = [c_int]
lib.vc_error_clear.restype = None
lib.vc_error_clear.argtypes = []
lib.vc_abi_version.restype = c_int
lib.vc_abi_version.argtypes = []
lib.vc_version_string.restype = c_char_p
lib.vc_version_string.argtypes = []

if lib.vc_abi_version() != ABI_VERSION:
    raise ImportError(
        f"vyomcomm: the library's ABI is {lib.vc_abi_version()}, this "
        f"package needs {ABI_VERSION}")

# Filled in by errors.py (which imports this module) to avoid a cycle.
raise_for: Callable[[int, Optional[Tuple[int, int, str]]], Any]


def last_error() -> Tuple[int, int, str]:
    """(class, provider status, message) of the calling thread's last
    failure."""
    e = lib.vc_error_last().contents
    msg = e.message.decode("utf-8", "replace") if e.message else ""
    return e.klass, e.provider_status, msg


def _check(rc: int, func: Any, args: Any) -> int:
    # Runs inside the ctypes call, right after the C function returned,
    # on the calling thread: the thread-local detail is still this call's.
    if rc < 0:
        raise_for(rc, last_error())
    return rc


def _check_iter(rc: int, func: Any, args: Any) -> int:
    if rc < 0 and rc != VC_ITEROVER:
        raise_for(rc, last_error())
    return rc


H = c_void_p            # every opaque handle
PH = POINTER(c_void_p)  # an out-parameter for a handle


def fn(name: str, restype: Any, argtypes: Sequence[Any],
       check: str = "") -> Any:
    """Declare one function. check: "" none, "rc" raise on < 0, "iter"
    raise on < 0 except VC_ITEROVER."""
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    if check == "rc":
        f.errcheck = _check
    elif check == "iter":
        f.errcheck = _check_iter
    return f


def rc(name: str, *argtypes: Any) -> Any:
    return fn(name, c_int, argtypes, "rc")


def it(name: str, *argtypes: Any) -> Any:
    return fn(name, c_int, argtypes, "iter")


def getter(name: str, restype: Any, handle: Any = H) -> Any:
    return fn(name, restype, [handle])


def void(name: str, *argtypes: Any) -> Any:
    return fn(name, None, argtypes)


# ---- buffers, iterators, logging, events -------------------------------------


class vc_buf(Structure):
    _fields_ = [("ptr", c_void_p), ("reserved", c_size_t),
                ("size", c_size_t)]


void("vc_buf_dispose", POINTER(vc_buf))
void("vc_free", c_void_p)
getter("vc_iter_cursor", c_char_p)
void("vc_iter_free", H)
LOG_CB = CFUNCTYPE(None, c_int, c_char_p, c_void_p)
CLOCK_CB = CFUNCTYPE(c_int64, c_void_p)
getter("vc_log_level_name", c_char_p, c_int)


class vc_event(Structure):
    _fields_ = [("seq", c_uint64), ("tenant_id", c_char_p),
                ("type", c_char_p), ("subject_id", c_char_p),
                ("payload_json", c_char_p), ("created_at", c_int64)]


EVENT_CB = CFUNCTYPE(c_int, POINTER(vc_event), c_void_p)
rc("vc_events_since", PH, H, c_uint64)
it("vc_event_next", POINTER(POINTER(vc_event)), H)

# ---- context and store --------------------------------------------------------


class vc_master_key(Structure):
    _fields_ = [("version", c_uint), ("key", c_char_p),
                ("key_len", c_size_t), ("passphrase", c_char_p),
                ("kdf_iterations", c_uint32)]


VC_MASTER_KEY_VERSION = 1


class vc_ctx_options(Structure):
    _fields_ = [("version", c_uint), ("store", H),
                ("master_key", POINTER(vc_master_key)),
                ("log_cb", LOG_CB), ("log_payload", c_void_p),
                ("log_level", c_int), ("clock_cb", CLOCK_CB),
                ("clock_payload", c_void_p), ("random_seed", c_uint64),
                ("public_base_url", c_char_p), ("lease_ms", c_int64),
                ("claim_batch", c_uint32), ("event_consumer", c_char_p),
                ("allow_private_network", c_int)]


VC_CTX_OPTIONS_VERSION = 2


class vc_sqlite_options(Structure):
    _fields_ = [("version", c_uint), ("synchronous", c_int),
                ("busy_timeout_ms", c_int), ("statement_cache", c_uint32)]


VC_SQLITE_OPTIONS_VERSION = 1

rc("vc_master_key_init", POINTER(vc_master_key), c_uint)
rc("vc_ctx_options_init", POINTER(vc_ctx_options), c_uint)
rc("vc_sqlite_options_init", POINTER(vc_sqlite_options), c_uint)
rc("vc_store_open_sqlite", PH, c_char_p, POINTER(vc_sqlite_options))
void("vc_store_free", H)
rc("vc_ctx_new", PH, POINTER(vc_ctx_options))
void("vc_ctx_free", H)
rc("vc_ctx_run", H, c_int)
rc("vc_ctx_start", H, c_uint)
rc("vc_ctx_stop", H)
rc("vc_ctx_wakeup", H)
rc("vc_ctx_set_event_cb", H, EVENT_CB, c_void_p)
getter("vc_ctx_now", c_int64)

# ---- tenants ------------------------------------------------------------------


class vc_tenant_spec(Structure):
    _fields_ = [("version", c_uint), ("slug", c_char_p), ("name", c_char_p),
                ("timezone", c_char_p), ("locale", c_char_p),
                ("currency", c_char_p), ("quiet_start_min", c_int),
                ("quiet_end_min", c_int),
                ("quiet_exempt_categories", c_uint)]


VC_TENANT_SPEC_VERSION = 2


class vc_tenant_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p),
                ("include_deleted", c_int)]


VC_TENANT_FILTER_VERSION = 1

rc("vc_tenant_spec_init", POINTER(vc_tenant_spec), c_uint)
rc("vc_tenant_filter_init", POINTER(vc_tenant_filter), c_uint)
rc("vc_tenant_new", PH, H, POINTER(vc_tenant_spec))
rc("vc_tenant_lookup", PH, H, c_char_p)
rc("vc_tenant_lookup_id", PH, H, c_char_p)
rc("vc_tenant_update", H, POINTER(vc_tenant_spec))
rc("vc_tenant_delete", H)
rc("vc_tenant_list", PH, H, POINTER(vc_tenant_filter))
it("vc_tenant_next", PH, H)
void("vc_tenant_free", H)
for _n in ("id", "slug", "name", "timezone", "locale", "currency"):
    getter("vc_tenant_" + _n, c_char_p)
getter("vc_tenant_created_at", c_int64)
getter("vc_tenant_deleted_at", c_int64)
rc("vc_tenant_quiet_hours", H, POINTER(c_int), POINTER(c_int))

# ---- channels -----------------------------------------------------------------


class vc_channel_spec(Structure):
    _fields_ = [("version", c_uint), ("name", c_char_p),
                ("provider", c_char_p), ("config_json", c_char_p),
                ("credentials_json", c_char_p), ("sender", c_char_p),
                ("priority", c_int32), ("rate_per_second", c_double),
                ("kind", c_int)]


VC_CHANNEL_SPEC_VERSION = 1


class vc_channel_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("kind", c_int),
                ("include_disabled", c_int)]


VC_CHANNEL_FILTER_VERSION = 1

rc("vc_channel_spec_init", POINTER(vc_channel_spec), c_uint)
rc("vc_channel_filter_init", POINTER(vc_channel_filter), c_uint)
getter("vc_channel_kind_name", c_char_p, c_int)
rc("vc_channel_new", PH, H, POINTER(vc_channel_spec))
rc("vc_channel_lookup", PH, H, c_char_p)
rc("vc_channel_list", PH, H, POINTER(vc_channel_filter))
it("vc_channel_next", PH, H)
rc("vc_channel_update", H, POINTER(vc_channel_spec))
rc("vc_channel_disable", H)
rc("vc_channel_enable", H)
void("vc_channel_free", H)
for _n in ("id", "tenant_id", "name", "provider", "sender", "config_json",
           "webhook_path"):
    getter("vc_channel_" + _n, c_char_p)
getter("vc_channel_kind_of", c_int)
getter("vc_channel_priority", c_int32)
getter("vc_channel_rate_per_second", c_double)
getter("vc_channel_enabled", c_int)
for _n in ("created_at", "updated_at", "disabled_at"):
    getter("vc_channel_" + _n, c_int64)
rc("vc_channel_webhook_url", POINTER(vc_buf), H)

# ---- templates ----------------------------------------------------------------


class vc_template_spec(Structure):
    _fields_ = [("version", c_uint), ("name", c_char_p), ("kind", c_int),
                ("locale", c_char_p), ("subject", c_char_p),
                ("text_body", c_char_p), ("html_body", c_char_p),
                ("variables_json", c_char_p), ("category", c_int)]


VC_TEMPLATE_SPEC_VERSION = 2


class vc_template_render_spec(Structure):
    _fields_ = [("version", c_uint), ("kind", c_int), ("locale", c_char_p),
                ("vars_json", c_char_p), ("part", c_int),
                ("template_version", c_int)]


VC_TEMPLATE_RENDER_SPEC_VERSION = 1


class vc_template_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("kind", c_int)]


VC_TEMPLATE_FILTER_VERSION = 1

rc("vc_template_spec_init", POINTER(vc_template_spec), c_uint)
rc("vc_template_render_spec_init", POINTER(vc_template_render_spec), c_uint)
rc("vc_template_filter_init", POINTER(vc_template_filter), c_uint)
rc("vc_template_new", PH, H, POINTER(vc_template_spec))
rc("vc_template_add_variant", H, POINTER(vc_template_spec))
rc("vc_template_lookup", PH, H, c_char_p)
rc("vc_template_list", PH, H, POINTER(vc_template_filter))
it("vc_template_next", PH, H)
rc("vc_template_render", POINTER(vc_buf), H,
   POINTER(vc_template_render_spec))
void("vc_template_free", H)
getter("vc_template_version", c_int)
for _n in ("id", "tenant_id", "name"):
    getter("vc_template_" + _n, c_char_p)
getter("vc_template_kind", c_int)
getter("vc_template_category", c_int)
getter("vc_template_created_at", c_int64)

# ---- messages -----------------------------------------------------------------


class vc_attachment(Structure):
    _fields_ = [("filename", c_char_p), ("content_type", c_char_p),
                ("data", c_char_p), ("len", c_size_t), ("url", c_char_p)]


class vc_message_spec(Structure):
    _fields_ = [("version", c_uint), ("kind", c_int), ("channel", c_char_p),
                ("to", c_char_p), ("from_", c_char_p), ("subject", c_char_p),
                ("text", c_char_p), ("html", c_char_p),
                ("template_name", c_char_p), ("locale", c_char_p),
                ("vars_json", c_char_p),
                ("attachments", POINTER(vc_attachment)),
                ("nattachments", c_size_t), ("metadata_json", c_char_p),
                ("idempotency_key", c_char_p), ("send_at", c_int64),
                ("category", c_int), ("contact_id", c_char_p)]


VC_MESSAGE_SPEC_VERSION = 2


class vc_message_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("status", c_int),
                ("channel", c_char_p), ("since", c_int64),
                ("until", c_int64)]


VC_MESSAGE_FILTER_VERSION = 1
IdBuf = c_char * ID_SIZE

rc("vc_message_spec_init", POINTER(vc_message_spec), c_uint)
rc("vc_message_filter_init", POINTER(vc_message_filter), c_uint)
getter("vc_message_status_name", c_char_p, c_int)
rc("vc_message_send", POINTER(c_char), H, POINTER(vc_message_spec))
rc("vc_message_send_many", H, POINTER(vc_message_spec), c_size_t,
   POINTER(IdBuf), POINTER(c_int))
rc("vc_message_lookup", PH, H, c_char_p)
rc("vc_message_cancel", H, c_char_p)
rc("vc_message_list", PH, H, POINTER(vc_message_filter))
it("vc_message_next", PH, H)
void("vc_message_free", H)
for _n in ("id", "channel_id", "to", "provider_id", "provider_code",
           "error_message", "contact_id"):
    getter("vc_message_" + _n, c_char_p)
for _n in ("status", "kind", "error", "segments", "attempts",
           "template_version", "category"):
    getter("vc_message_" + _n, c_int)
getter("vc_message_created_at", c_int64)
getter("vc_message_updated_at", c_int64)

# ---- calls --------------------------------------------------------------------


class vc_call_spec(Structure):
    _fields_ = [("version", c_uint), ("agent", c_char_p),
                ("agent_number", c_char_p), ("customer_number", c_char_p),
                ("caller_id", c_char_p), ("channel", c_char_p),
                ("record", c_int), ("ivr_menu", c_char_p),
                ("metadata_json", c_char_p), ("idempotency_key", c_char_p),
                ("ring_timeout_s", c_int), ("time_limit_s", c_int),
                ("category", c_int), ("contact_id", c_char_p)]


VC_CALL_SPEC_VERSION = 2


class vc_call_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("state", c_int),
                ("agent", c_char_p), ("channel", c_char_p),
                ("customer_number", c_char_p), ("since", c_int64),
                ("until", c_int64)]


VC_CALL_FILTER_VERSION = 1

rc("vc_call_spec_init", POINTER(vc_call_spec), c_uint)
rc("vc_call_filter_init", POINTER(vc_call_filter), c_uint)
getter("vc_call_state_name", c_char_p, c_int)
getter("vc_call_cause_name", c_char_p, c_int)
rc("vc_call_start", PH, H, POINTER(vc_call_spec))
rc("vc_call_lookup", PH, H, c_char_p)
rc("vc_call_hold", H, c_int)
rc("vc_call_transfer", H, c_char_p)
rc("vc_call_hangup", H)
rc("vc_call_record", H, c_int)
rc("vc_call_refresh", H)
rc("vc_call_list", PH, H, POINTER(vc_call_filter))
it("vc_call_next", PH, H)
void("vc_call_free", H)
for _n in ("id", "agent_id", "agent_number", "customer_number", "caller_id",
           "channel_id", "provider_id", "metadata_json", "provider_code",
           "error_message", "currency", "contact_id"):
    getter("vc_call_" + _n, c_char_p)
for _n in ("state_of", "record_mode", "on_hold", "cause_of", "failed_leg",
           "error", "attempts", "talk_seconds", "cost_reported", "category"):
    getter("vc_call_" + _n, c_int)
for _n in ("cost_micros", "created_at", "updated_at"):
    getter("vc_call_" + _n, c_int64)
fn("vc_call_state_at", c_int64, [H, c_int])
rc("vc_call_timeline", PH, H, c_char_p)
it("vc_call_entry_next", PH, H)
void("vc_call_entry_free", H)
getter("vc_call_entry_seq", c_int64)
getter("vc_call_entry_type", c_char_p)
getter("vc_call_entry_leg", c_int)
getter("vc_call_entry_state", c_int)
getter("vc_call_entry_detail_json", c_char_p)
getter("vc_call_entry_at", c_int64)

# ---- contacts and consent -----------------------------------------------------


class vc_contact_spec(Structure):
    _fields_ = [("version", c_uint), ("name", c_char_p), ("phone", c_char_p),
                ("email", c_char_p), ("telegram", c_char_p),
                ("whatsapp", c_char_p), ("timezone", c_char_p),
                ("locale", c_char_p), ("quiet_start_min", c_int),
                ("quiet_end_min", c_int), ("tags", c_char_p),
                ("fields_json", c_char_p)]


VC_CONTACT_SPEC_VERSION = 1


class vc_contact_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("tag", c_char_p),
                ("address_kind", c_int), ("name_prefix", c_char_p),
                ("updated_since", c_int64)]


VC_CONTACT_FILTER_VERSION = 1
VC_CONSENT_SOURCE_MAX = 32


class vc_consent_spec(Structure):
    _fields_ = [("version", c_uint), ("contact_id", c_char_p),
                ("kind", c_int), ("category", c_int), ("state", c_int),
                ("source", c_char_p), ("proof", c_char_p)]


VC_CONSENT_SPEC_VERSION = 1


class vc_consent_info(Structure):
    _fields_ = [("version", c_uint), ("state", c_int),
                ("changed_at", c_int64),
                ("source", c_char * (VC_CONSENT_SOURCE_MAX + 1)),
                ("requires_opt_in", c_int), ("allowed", c_int)]


VC_CONSENT_INFO_VERSION = 1

rc("vc_contact_spec_init", POINTER(vc_contact_spec), c_uint)
rc("vc_contact_filter_init", POINTER(vc_contact_filter), c_uint)
rc("vc_contact_upsert", POINTER(c_char), H, POINTER(vc_contact_spec))
rc("vc_contact_update", H, c_char_p, POINTER(vc_contact_spec))
rc("vc_contact_lookup", PH, H, c_char_p)
rc("vc_contact_find_by_address", PH, H, c_int, c_char_p)
rc("vc_contact_address_add", H, c_char_p, c_int, c_char_p)
rc("vc_contact_address_remove", H, c_char_p, c_int, c_char_p)
rc("vc_contact_tag_add", H, c_char_p, c_char_p)
rc("vc_contact_tag_remove", H, c_char_p, c_char_p)
rc("vc_contact_merge", H, c_char_p, c_char_p)
rc("vc_contact_list", PH, H, POINTER(vc_contact_filter))
it("vc_contact_next", PH, H)
void("vc_contact_free", H)
for _n in ("id", "name", "timezone", "locale", "fields_json"):
    getter("vc_contact_" + _n, c_char_p)
fn("vc_contact_quiet_hours", c_int, [H, POINTER(c_int), POINTER(c_int)])
fn("vc_contact_address", c_char_p, [H, c_int])
getter("vc_contact_address_count", c_size_t)
fn("vc_contact_address_at", c_char_p, [H, c_size_t, POINTER(c_int)])
getter("vc_contact_tag_count", c_size_t)
fn("vc_contact_tag_at", c_char_p, [H, c_size_t])
getter("vc_contact_created_at", c_int64)
getter("vc_contact_updated_at", c_int64)
getter("vc_consent_name", c_char_p, c_int)
rc("vc_consent_spec_init", POINTER(vc_consent_spec), c_uint)
rc("vc_consent_info_init", POINTER(vc_consent_info), c_uint)
rc("vc_consent_set", H, POINTER(vc_consent_spec))
rc("vc_consent_get", POINTER(vc_consent_info), H, c_char_p, c_int, c_int)
rc("vc_consent_policy_set", H, c_int, c_int, c_int)
rc("vc_consent_policy_get", POINTER(c_int), H, c_int, c_int)
rc("vc_dnc_add", H, c_char_p, c_char_p)
rc("vc_dnc_remove", H, c_char_p)
rc("vc_dnc_contains", H, c_char_p)

# ---- campaigns ----------------------------------------------------------------


class vc_campaign_spec(Structure):
    _fields_ = [("version", c_uint), ("name", c_char_p),
                ("template_name", c_char_p), ("locale", c_char_p),
                ("vars_json", c_char_p), ("chain", POINTER(c_char_p)),
                ("nchain", c_size_t), ("audience", c_int),
                ("contact_ids", POINTER(c_char_p)),
                ("ncontacts", c_size_t),
                ("contact_vars", POINTER(c_char_p)), ("tag", c_char_p),
                ("start_at", c_int64), ("end_at", c_int64),
                ("window_start_min", c_int), ("window_end_min", c_int),
                ("rate", c_double), ("category", c_int)]


VC_CAMPAIGN_SPEC_VERSION = 1

COUNTER_FIELDS = ("total", "queued", "sent", "delivered", "failed",
                  "canceled", "skipped_consent", "skipped_address",
                  "deferred_quiet", "expired", "open")


class vc_campaign_counters(Structure):
    _fields_ = ([("version", c_uint), ("state", c_int)] +
                [(n, c_uint64) for n in COUNTER_FIELDS])


VC_CAMPAIGN_COUNTERS_VERSION = 1


class vc_campaign_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("state", c_int)]


VC_CAMPAIGN_FILTER_VERSION = 1

rc("vc_campaign_spec_init", POINTER(vc_campaign_spec), c_uint)
rc("vc_campaign_counters_init", POINTER(vc_campaign_counters), c_uint)
rc("vc_campaign_filter_init", POINTER(vc_campaign_filter), c_uint)
getter("vc_campaign_state_name", c_char_p, c_int)
rc("vc_campaign_new", PH, H, POINTER(vc_campaign_spec))
for _n in ("start", "pause", "resume", "cancel"):
    rc("vc_campaign_" + _n, H)
rc("vc_campaign_lookup", PH, H, c_char_p)
rc("vc_campaign_list", PH, H, POINTER(vc_campaign_filter))
it("vc_campaign_next", PH, H)
rc("vc_campaign_counters_get", POINTER(vc_campaign_counters), H)
void("vc_campaign_free", H)
for _n in ("id", "name", "template_id"):
    getter("vc_campaign_" + _n, c_char_p)
for _n in ("state", "audience_kind", "category"):
    getter("vc_campaign_" + _n, c_int)
getter("vc_campaign_rate", c_double)
for _n in ("start_at", "end_at", "created_at"):
    getter("vc_campaign_" + _n, c_int64)

# ---- agents -------------------------------------------------------------------


class vc_agent_spec(Structure):
    _fields_ = [("version", c_uint), ("name", c_char_p),
                ("display_name", c_char_p), ("number", c_char_p),
                ("wrap_up_s", c_int), ("metadata_json", c_char_p)]


VC_AGENT_SPEC_VERSION = 1


class vc_agent_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("state", c_int)]


VC_AGENT_FILTER_VERSION = 1


class vc_agent_activity_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p),
                ("since", c_int64), ("until", c_int64)]


VC_AGENT_ACTIVITY_FILTER_VERSION = 1

AGENT_TOTAL_FIELDS = ("calls", "answered_calls", "talk_ms", "wrap_up_ms",
                      "idle_ms", "break_ms", "on_call_ms", "offline_ms")


class vc_agent_totals(Structure):
    _fields_ = ([("version", c_uint)] +
                [(n, c_int64) for n in AGENT_TOTAL_FIELDS])


VC_AGENT_TOTALS_VERSION = 1

rc("vc_agent_spec_init", POINTER(vc_agent_spec), c_uint)
rc("vc_agent_filter_init", POINTER(vc_agent_filter), c_uint)
rc("vc_agent_activity_filter_init", POINTER(vc_agent_activity_filter),
   c_uint)
rc("vc_agent_totals_init", POINTER(vc_agent_totals), c_uint)
getter("vc_agent_state_name", c_char_p, c_int)
getter("vc_agent_cause_name", c_char_p, c_int)
rc("vc_agent_new", PH, H, POINTER(vc_agent_spec))
rc("vc_agent_lookup", PH, H, c_char_p)
rc("vc_agent_update", H, POINTER(vc_agent_spec))
rc("vc_agent_set_state", H, c_int, c_char_p)
rc("vc_agent_refresh", H)
rc("vc_agent_delete", H)
rc("vc_agent_list", PH, H, POINTER(vc_agent_filter))
it("vc_agent_next", PH, H)
void("vc_agent_free", H)
for _n in ("id", "tenant_id", "name", "display_name", "number",
           "metadata_json", "reason", "call_id"):
    getter("vc_agent_" + _n, c_char_p)
getter("vc_agent_wrap_up_seconds", c_int)
getter("vc_agent_state_of", c_int)
for _n in ("state_since", "wrap_up_until", "created_at", "updated_at"):
    getter("vc_agent_" + _n, c_int64)
rc("vc_agent_activity", PH, H, POINTER(vc_agent_activity_filter))
it("vc_agent_change_next", PH, H)
void("vc_agent_change_free", H)
getter("vc_agent_change_seq", c_int64)
getter("vc_agent_change_from", c_int)
getter("vc_agent_change_to", c_int)
getter("vc_agent_change_reason", c_char_p)
getter("vc_agent_change_cause", c_int)
getter("vc_agent_change_call_id", c_char_p)
getter("vc_agent_change_at", c_int64)
rc("vc_agent_stats", POINTER(vc_agent_totals), H, c_int64, c_int64)

# ---- queues -------------------------------------------------------------------


class vc_queue_spec(Structure):
    _fields_ = [("version", c_uint), ("name", c_char_p),
                ("strategy", c_int), ("max_wait_s", c_int),
                ("announce_position", c_int), ("overflow_kind", c_int),
                ("overflow_target", c_char_p), ("moh_url", c_char_p)]


VC_QUEUE_SPEC_VERSION = 1


class vc_queue_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p)]


VC_QUEUE_FILTER_VERSION = 1


class vc_queue_member_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p)]


VC_QUEUE_MEMBER_FILTER_VERSION = 1

rc("vc_queue_spec_init", POINTER(vc_queue_spec), c_uint)
rc("vc_queue_filter_init", POINTER(vc_queue_filter), c_uint)
rc("vc_queue_member_filter_init", POINTER(vc_queue_member_filter), c_uint)
getter("vc_queue_strategy_name", c_char_p, c_int)
getter("vc_queue_overflow_name", c_char_p, c_int)
rc("vc_queue_new", PH, H, POINTER(vc_queue_spec))
rc("vc_queue_lookup", PH, H, c_char_p)
rc("vc_queue_update", H, POINTER(vc_queue_spec))
rc("vc_queue_delete", H)
rc("vc_queue_list", PH, H, POINTER(vc_queue_filter))
it("vc_queue_next", PH, H)
void("vc_queue_free", H)
for _n in ("id", "tenant_id", "name", "overflow_target", "moh_url"):
    getter("vc_queue_" + _n, c_char_p)
for _n in ("strategy_of", "max_wait_seconds", "announce_position",
           "overflow_kind"):
    getter("vc_queue_" + _n, c_int)
getter("vc_queue_created_at", c_int64)
getter("vc_queue_updated_at", c_int64)
rc("vc_queue_member_add", H, c_char_p, c_char_p)
rc("vc_queue_member_remove", H, c_char_p)
rc("vc_queue_members", PH, H, POINTER(vc_queue_member_filter))
it("vc_queue_member_next", PH, H)
void("vc_queue_member_free", H)
getter("vc_queue_member_agent_id", c_char_p)
getter("vc_queue_member_skills", c_char_p)
getter("vc_queue_member_position", c_int)
getter("vc_queue_member_added_at", c_int64)

# ---- inbound numbers ----------------------------------------------------------


class vc_number_spec(Structure):
    _fields_ = [("version", c_uint), ("number", c_char_p),
                ("channel", c_char_p), ("entry_kind", c_int),
                ("entry", c_char_p), ("label", c_char_p)]


VC_NUMBER_SPEC_VERSION = 1


class vc_number_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p),
                ("entry_kind", c_int), ("entry_id", c_char_p),
                ("channel_id", c_char_p)]


VC_NUMBER_FILTER_VERSION = 1

rc("vc_number_spec_init", POINTER(vc_number_spec), c_uint)
rc("vc_number_filter_init", POINTER(vc_number_filter), c_uint)
getter("vc_number_entry_name", c_char_p, c_int)
rc("vc_number_new", PH, H, POINTER(vc_number_spec))
rc("vc_number_lookup", PH, H, c_char_p)
rc("vc_number_find", PH, H, c_char_p)
rc("vc_number_update", H, POINTER(vc_number_spec))
rc("vc_number_delete", H)
rc("vc_number_list", PH, H, POINTER(vc_number_filter))
it("vc_number_next", PH, H)
void("vc_number_free", H)
for _n in ("id", "tenant_id", "number", "channel_id", "entry_id", "label"):
    getter("vc_number_" + _n, c_char_p)
getter("vc_number_entry_kind", c_int)
getter("vc_number_created_at", c_int64)
getter("vc_number_updated_at", c_int64)

# ---- the unified inbox --------------------------------------------------------


class vc_conversation_filter(Structure):
    _fields_ = [("version", c_uint), ("after", c_char_p), ("status", c_int),
                ("assignee_id", c_char_p), ("unassigned", c_int),
                ("unread", c_int), ("channel_kind", c_int),
                ("updated_since", c_int64), ("text", c_char_p)]


VC_CONVERSATION_FILTER_VERSION = 1


class vc_conversation_item_filter(Structure):
    _fields_ = [("version", c_uint), ("conversation_id", c_char_p),
                ("contact_id", c_char_p), ("after", c_char_p),
                ("newest_first", c_int)]


VC_CONVERSATION_ITEM_FILTER_VERSION = 1

rc("vc_conversation_filter_init", POINTER(vc_conversation_filter), c_uint)
rc("vc_conversation_item_filter_init",
   POINTER(vc_conversation_item_filter), c_uint)
getter("vc_conversation_status_name", c_char_p, c_int)
rc("vc_conversation_lookup", PH, H, c_char_p)
rc("vc_conversation_lookup_contact", PH, H, c_char_p)
rc("vc_conversation_list", PH, H, POINTER(vc_conversation_filter))
it("vc_conversation_next", PH, H)
rc("vc_conversation_set_status", H, c_char_p, c_int, c_int64)
rc("vc_conversation_assign", H, c_char_p, c_char_p)
rc("vc_conversation_unassign", H, c_char_p)
rc("vc_conversation_mark_read", H, c_char_p)
rc("vc_conversation_reply", POINTER(c_char), H, c_char_p,
   POINTER(vc_message_spec))
void("vc_conversation_free", H)
for _n in ("id", "contact_id", "assignee_id", "last_channel_id"):
    getter("vc_conversation_" + _n, c_char_p)
getter("vc_conversation_status_of", c_int)
getter("vc_conversation_last_channel_kind", c_int)
for _n in ("snoozed_until", "unread", "last_activity_at", "created_at",
           "updated_at"):
    getter("vc_conversation_" + _n, c_int64)
rc("vc_conversation_items", PH, H, POINTER(vc_conversation_item_filter))
it("vc_conversation_item_next", PH, H)
void("vc_conversation_item_free", H)
for _n in ("id", "channel_id", "text", "recording_url"):
    getter("vc_conversation_item_" + _n, c_char_p)
for _n in ("type_of", "channel_kind", "status", "duration"):
    getter("vc_conversation_item_" + _n, c_int)
getter("vc_conversation_item_at", c_int64)

# ---- analytics ----------------------------------------------------------------


class vc_stats_spec(Structure):
    _fields_ = [("version", c_uint), ("from_", c_int64), ("to", c_int64),
                ("granularity", c_int), ("what", c_uint),
                ("channel_id", c_char_p), ("campaign_id", c_char_p)]


VC_STATS_SPEC_VERSION = 1

rc("vc_stats_spec_init", POINTER(vc_stats_spec), c_uint)
rc("vc_stats_query", POINTER(vc_buf), H, POINTER(vc_stats_spec))

# ---- webhooks -----------------------------------------------------------------


class vc_http_header(Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p)]


class vc_http_request(Structure):
    _fields_ = [("version", c_uint), ("method", c_char_p),
                ("target", c_char_p),
                ("headers", POINTER(vc_http_header)),
                ("nheaders", c_size_t), ("body", c_char_p),
                ("body_len", c_size_t), ("remote_addr", c_char_p)]


VC_HTTP_REQUEST_VERSION = 1


class vc_http_response(Structure):
    _fields_ = [("version", c_uint), ("status", c_int),
                ("content_type", c_char_p),
                ("headers", POINTER(vc_http_header)),
                ("nheaders", c_size_t), ("body", vc_buf)]


VC_HTTP_RESPONSE_VERSION = 1

rc("vc_http_request_init", POINTER(vc_http_request), c_uint)
rc("vc_http_response_init", POINTER(vc_http_response), c_uint)
void("vc_http_response_dispose", POINTER(vc_http_response))
# No errcheck: the response is filled (and must be sent) also on failure.
fn("vc_webhook_handle", c_int,
   [POINTER(vc_http_response), H, POINTER(vc_http_request)])
rc("vc_webhook_listen", H, c_char_p)

del _n

# ---- helpers ------------------------------------------------------------------


def enc(s: Optional[str]) -> Optional[bytes]:
    """A str as UTF-8 bytes for a ``const char *``; None stays NULL."""
    if s is None:
        return None
    if not isinstance(s, str):
        raise TypeError(f"expected str, got {type(s).__name__}")
    return s.encode("utf-8")


def dec(b: Optional[bytes]) -> str:
    """A borrowed C string as str ("" for NULL)."""
    return b.decode("utf-8", "replace") if b else ""


def buf_take(b: vc_buf) -> bytes:
    """Copy a vc_buf's bytes and dispose of it."""
    try:
        return ctypes.string_at(b.ptr, b.size) if b.ptr else b""
    finally:
        lib.vc_buf_dispose(ctypes.byref(b))


def init(struct_type: Any, init_name: str, version: int) -> Any:
    """A struct filled with the library's defaults for `version`."""
    s = struct_type()
    getattr(lib, init_name)(ctypes.byref(s), version)
    return s


def c_strings(items: Sequence[Optional[str]]) -> Any:
    """A ``const char *const *`` array (kept alive by the caller)."""
    arr = (c_char_p * max(len(items), 1))()
    for i, s in enumerate(items):
        arr[i] = enc(s)
    return arr


__all__ = ["lib", "enc", "dec", "init", "buf_take", "c_strings", "ID_SIZE",
           "VC_ITEROVER", "c_uint8"]
