# Types for the compiled build of db.py (see vermilion/compiled.py): Db becomes an extension
# type, so its own methods and the compiled command handlers read the keyspace's dicts as struct
# fields and call dict and set operations directly. ``access`` stays an object: under an LFU
# policy it is a dict subclass whose item assignment keeps nothing (vermilion.keyspace.lfu).

cdef class Db:
    cdef public object index
    cdef public dict data
    cdef public dict expires
    cdef public object access
    cdef public object server
    cdef public object stats
    cdef public dict watched
    cdef public object deletions
    cdef public object expire_scan
    cdef public object expire_scan_pos
    cdef public object avg_ttl
    cdef public object scan_snapshots
    cdef public dict blocking_keys
    cdef public object random_sample
    cdef public object random_sample_size
    cdef public object random_sample_deletions
    cdef public dict mem_costs
    cdef public object mem_total
    cdef public set mem_dirty
    cdef public object mem_keys
    cdef public object lfu
