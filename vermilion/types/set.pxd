# Types for the compiled build of set.py (see vermilion/compiled.py): RedisSet becomes an
# extension type, so SADD in the compiled vermilion.commands.sets reaches its members directly.

cdef class RedisSet:
    cdef public list members
    cdef public dict positions
    cdef public object intset
    cdef public object sorted_cache
    cdef public object width
