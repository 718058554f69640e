# Types for the compiled build of hash.py (see vermilion/compiled.py): HashValue becomes an
# extension type, so HSET in the compiled vermilion.commands.hashes reaches its fields directly.

cdef class HashValue:
    cdef public dict fields
    cdef public object big
    cdef public object removed
    cdef public object scans
    cdef public object sample
