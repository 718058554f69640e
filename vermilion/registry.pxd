# Types for the compiled build of registry.py (Cython's augmenting .pxd, see vermilion/compiled.py):
# Command becomes an extension type, so the connection lane reads a command's handler, arity
# range and statistics as struct fields instead of through attribute lookups. Fields stay public
# Python objects: COMMAND, ACL, the gate and vermilion.observe use them as before.

cdef class Command:
    cdef public object name
    cdef public object full_name
    cdef public object handler
    cdef public object arity
    cdef public object flags
    cdef public object first_key
    cdef public object last_key
    cdef public object key_step
    cdef public object acl_categories
    cdef public object info
    cdef public object docs
    cdef public object parent
    cdef public object subcommands
    cdef public object group
    cdef public object is_write
    cdef public object is_readonly
    cdef public object denyoom
    cdef public object no_auth
    cdef public object no_multi
    cdef public object is_admin
    cdef public object fast
    cdef public object duration_ns
    cdef public object _gated
    cdef public object inline_argc
    cdef public object min_args
    cdef public object max_args
    cdef public object failed_calls
    cdef public object rejected_calls
    cdef public object id
    cdef public list latency_histogram
    cdef public object untracked_calls
    cdef public object run_handler
    cdef public object run_argc
